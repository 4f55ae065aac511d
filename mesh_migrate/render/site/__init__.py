"""The review site: a static HTML report of the split, one page per team."""

from .writer import site_pages, write_site

__all__ = ["site_pages", "write_site"]
