#!/usr/bin/env python3
"""Checks every link of the built documentation site: each relative `href`/`src` of a book
page must resolve to a file of the site (an API reference page included) and its `#fragment`
to an element id in that page; a relative link may not leave the site (the book is read on
its own, not beside the repository). Exits 1 listing every broken link.
Usage: check_links.py SITE_DIR"""
import html.parser
import sys
import urllib.parse
from pathlib import Path


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img" and a.get("src"):
            self.links.append(a["src"])


def parse(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(errors="replace"))
    return p


def main(site: Path) -> int:
    site = site.resolve()
    api = site / "api"
    cache, broken, checked = {}, [], 0
    pages = [p for p in site.rglob("*.html") if api not in p.parents and p.name not in ("print.html", "toc.html", "404.html")]
    for page in pages:
        for link in parse(page).links:
            url = urllib.parse.urlsplit(link)
            if url.scheme or url.netloc or link == "#":
                continue
            checked += 1
            path_part = urllib.parse.unquote(url.path)
            target = (page.parent / path_part).resolve() if path_part else page
            frag = urllib.parse.unquote(url.fragment)
            if site in target.parents or target == site:
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_file():
                    broken.append(f"{page.relative_to(site)}: {link} (no such page)")
                    continue
                if frag and target.suffix == ".html":
                    ids = cache.setdefault(target, parse(target).ids)
                    if frag not in ids:
                        broken.append(f"{page.relative_to(site)}: {link} (no id '{frag}' in {target.relative_to(site)})")
                continue
            broken.append(f"{page.relative_to(site)}: {link} (leaves the site)")
    for b in broken:
        print(f"broken link: {b}")
    print(f"{checked} links checked on {len(pages)} pages, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
