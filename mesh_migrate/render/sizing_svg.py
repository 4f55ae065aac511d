"""sizing.svg: a bar per team of task-hours a day, drawn by hand so no plotting library is needed."""

from __future__ import annotations

from xml.sax.saxutils import escape

from ..runtime.sizing import SizingPlan

BAR, GAP, LABEL, CHART, PAD = 22, 8, 180, 420, 12


def sizing_svg(plan: SizingPlan) -> str:
    teams = plan.teams
    top = max((t.task_hours_per_day for t in teams), default=0.0) or 1.0
    height = PAD * 2 + 24 + len(teams) * (BAR + GAP)
    width = LABEL + CHART + 140
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<title>Load per team: task-hours a day over {plan.days:.1f} days</title>',
        f'<text x="{PAD}" y="{PAD + 12}" font-weight="bold">Task-hours a day per team (monolith: {plan.monolith_task_hours_per_day:.2f})</text>',
    ]
    for index, size in enumerate(teams):
        y = PAD + 24 + index * (BAR + GAP)
        length = CHART * size.task_hours_per_day / top
        out.append(f'<text x="{LABEL - 6}" y="{y + BAR * 0.7:.1f}" text-anchor="end">{escape(size.team)}</text>')
        out.append(f'<rect x="{LABEL}" y="{y}" width="{length:.1f}" height="{BAR}" fill="#4c78a8"><title>{escape(size.team)}: '
                   f'{size.task_hours_per_day:.2f} task-hours a day, peak {size.peak_concurrency}</title></rect>')
        out.append(f'<text x="{LABEL + length + 6:.1f}" y="{y + BAR * 0.7:.1f}">{size.task_hours_per_day:.2f} h · peak {size.peak_concurrency}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
