"""The link checker finds what it is there to find: a missing page, a missing fragment and a
link out of the site; and passes a site whose links all resolve."""
import subprocess
import sys
from pathlib import Path

CHECKER = Path(__file__).with_name("check_links.py")


def site(tmp_path: Path, links: str) -> Path:
    root = tmp_path / "book"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text(f'<html><body><h1 id="top">t</h1>{links}</body></html>')
    (root / "sub" / "page.html").write_text('<html><body><h2 id="there">x</h2><a href="../index.html#top">up</a></body></html>')
    return root


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECKER), str(root)], capture_output=True, text=True)


def test_a_site_whose_links_resolve_passes(tmp_path):
    p = check(site(tmp_path, '<a href="sub/page.html#there">a</a> <a href="#top">b</a> <a href="https://example.com/x">c</a>'))
    assert p.returncode == 0, p.stdout
    assert "3 links checked on 2 pages, 0 broken" in p.stdout, p.stdout


def test_missing_pages_fragments_and_links_out_of_the_site_fail(tmp_path):
    p = check(site(tmp_path, '<a href="sub/nope.html">a</a> <a href="sub/page.html#nowhere">b</a> <a href="../README.md">c</a> <img src="img/x.png">'))
    assert p.returncode == 1, p.stdout
    assert "index.html: sub/nope.html (no such page)" in p.stdout
    assert "index.html: sub/page.html#nowhere (no id 'nowhere' in sub/page.html)" in p.stdout
    assert "index.html: ../README.md (leaves the site)" in p.stdout
    assert "index.html: img/x.png (no such page)" in p.stdout
    assert "4 broken" in p.stdout
