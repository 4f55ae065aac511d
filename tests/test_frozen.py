"""The direct constructor of frozen dataclasses behaves as the one dataclasses generates."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from mesh_migrate.extract.values import ExternalRef
from mesh_migrate.facts import ResourceUse, SourceSpan
from mesh_migrate.frozen import direct_init


def twins(slots: bool = False):
    """The same frozen dataclass twice: with the generated __init__, and with direct_init."""

    def make():
        @dataclass(frozen=True, order=True, slots=slots)
        class Place:
            path: str
            line: int
            column: int = 0
            end: int = field(default=0, compare=False)

        return Place

    return make(), direct_init(make())


@pytest.mark.parametrize("slots", [False, True], ids=["dict", "slots"])
@pytest.mark.parametrize(
    "args, kwargs",
    [(("a.py", 3), {}), (("a.py", 3, 4), {}), (("a.py", 3, 4, 9), {}), (("a.py",), {"line": 3, "end": 2}), ((), {"path": "a.py", "line": 1, "column": 2})],
)
def test_the_same_instance_from_the_same_arguments(args, kwargs, slots: bool) -> None:
    generated, direct = twins(slots)
    made, expected = direct(*args, **kwargs), generated(*args, **kwargs)
    assert dataclasses.astuple(made) == dataclasses.astuple(expected)
    assert _state(made) == _state(expected)
    assert repr(made) == repr(expected)


def _state(value) -> dict:
    """Every attribute an instance holds, in its dict or its slots."""
    return {name: getattr(value, name) for name in getattr(value, "__slots__", ())} or vars(value)


@pytest.mark.parametrize("slots", [False, True], ids=["dict", "slots"])
@pytest.mark.parametrize("args, kwargs", [(("a.py",), {}), (("a.py", 1, 2, 3, 4), {}), (("a.py", 1), {"colour": 2}), (("a.py", 1), {"path": "b.py"})])
def test_the_same_errors_for_wrong_arguments(args, kwargs, slots: bool) -> None:
    generated, direct = twins(slots)
    with pytest.raises(TypeError):
        generated(*args, **kwargs)
    with pytest.raises(TypeError):
        direct(*args, **kwargs)


@pytest.mark.parametrize("slots", [False, True], ids=["dict", "slots"])
def test_still_frozen_equal_hashable_ordered_and_replaceable(slots: bool) -> None:
    _, direct = twins(slots)
    place = direct("a.py", 3, 4, 9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        place.line = 5  # type: ignore[misc]
    assert place == direct("a.py", 3, 4, 1)  # `end` is not compared
    assert hash(place) == hash(direct("a.py", 3, 4, 1))
    assert direct("a.py", 2) < place < direct("b.py", 1)
    assert dataclasses.replace(place, line=7) == direct("a.py", 7, 4)


def test_the_facts_made_by_the_thousand_use_it() -> None:
    span = SourceSpan("dags/a.py", 3)
    assert (span.column, span.end_line, span.end_column) == (0, 0, 0)
    use = ResourceUse("connection", "dwh", "orders", span)
    assert (use.access, use.identity) == (None, None)
    assert ExternalRef("airflow").attr("DAG") == ExternalRef("airflow.DAG")
    for made in (span, use, SourceSpan("dags/b.py", 1, 2, 3, 4), ExternalRef("airflow.DAG")):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):  # the workers send them so
            again = pickle.loads(pickle.dumps(made, protocol))
            assert again == made and _state(again) == _state(made) and type(again) is type(made)
        assert copy.deepcopy(made) == made and copy.copy(made) == made
    for cls in (SourceSpan, ResourceUse, ExternalRef):
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"


def test_refuses_what_the_generated_init_alone_can_do() -> None:
    @dataclass
    class Mutable:
        x: int

    @dataclass(frozen=True)
    class Checked:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True)
    class Factory:
        x: list = field(default_factory=list)

    @dataclass(frozen=True)
    class Hidden:
        x: int = field(default=0, init=False)

    for cls in (Mutable, Checked, Factory, Hidden):
        with pytest.raises(TypeError):
            direct_init(cls)
