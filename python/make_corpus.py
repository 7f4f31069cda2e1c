#!/usr/bin/python3
"""Builds the pretraining corpus of the shipped byte model (issue 22) from files installed by Debian
packages, and the held-out test texts that must stay out of it.

  /usr/bin/python3 python/make_corpus.py --out runs/corpus --manifest data/corpus/manifest.tsv

Writes OUT/train.bin (the documents, concatenated), OUT/starts.npy (each document's start offset),
OUT/heldout/*.txt and the committed manifest (package, file, bytes, sha256, the total on the last
line). Every document is deduplicated by sha256 and capped in size; each source has a byte budget so
the mix stays broad. Deterministic: sources are walked in sorted order, pages picked by a fixed stride.
"""
import argparse
import glob
import gzip
import hashlib
import html
import os
import re
import subprocess
import sys

HELD_OUT_PACKAGES = {'bible-kjv-text', 'bible-kjv', 'jargon-text', 'manpages-fr'}
DOC_CAP = 200_000  # bytes per document


def owner_of(paths):
    """Maps each path to its Debian package through dpkg -S (batched)."""
    out = {}
    for i in range(0, len(paths), 200):
        chunk = paths[i:i + 200]
        r = subprocess.run(['dpkg', '-S', *chunk], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            pkg, _, path = line.partition(': ')
            out[path] = pkg.split(',')[0].split(':')[0]
    return out


def read_text(path):
    try:
        raw = gzip.open(path).read() if path.endswith('.gz') else open(path, 'rb').read()
    except (OSError, EOFError):
        return None
    if b'\0' in raw[:4096]:
        return None
    try:
        raw.decode('utf-8')
    except UnicodeDecodeError:
        return None
    return raw


TAG = re.compile(r'<(script|style)[^>]*>.*?</\1>|<[^>]+>', re.S | re.I)


def html_to_text(raw):
    t = TAG.sub('', raw.decode('utf-8'))
    t = html.unescape(t)
    t = re.sub(r'[ \t]+\n', '\n', t)
    t = re.sub(r'\n{3,}', '\n\n', t)
    return t.encode('utf-8')


def render_man(path):
    env = dict(os.environ, MANWIDTH='80', LC_ALL='C.UTF-8', MAN_KEEP_FORMATTING='')
    try:
        r = subprocess.run(['man', '-l', '-E', 'UTF-8', path], capture_output=True, env=env, timeout=20)
        c = subprocess.run(['col', '-bx'], input=r.stdout, capture_output=True, timeout=20)
        return c.stdout if len(c.stdout) > 200 else None
    except subprocess.TimeoutExpired:
        return None


def sources():
    """(name, budget bytes, list of paths, converter) in a fixed order."""
    def g(pattern):
        return sorted(set(glob.glob(pattern, recursive=True)))
    doc = [p for p in g('/usr/share/doc/**/*') if os.path.isfile(p) and not p.endswith('/copyright')
           and not os.path.basename(p).startswith('changelog') and not p.endswith(('.html', '.htm', '.png', '.svg', '.js', '.css'))]
    man1 = g('/usr/share/man/man[1-8]/*.gz')
    return [
        ('doc-text', 10_000_000, doc, None),
        ('copyright', 600_000, g('/usr/share/doc/*/copyright'), None),
        ('changelog', 1_500_000, g('/usr/share/doc/*/changelog.Debian.gz'), None),
        ('man-en', 3_000_000, man1[::7], render_man),
        ('man-de', 800_000, g('/usr/share/man/de/man[1-8]/*.gz')[::9], render_man),
        ('info', 3_000_000, g('/usr/share/info/*.gz'), None),
        ('python-doc', 9_000_000, g('/usr/share/doc/python3.11/html/_sources/**/*.txt'), None),
        ('debian-reference', 2_000_000, g('/usr/share/doc/debian-reference-en/**/*.html'), html_to_text),
        ('fortunes', 4_000_000, [p for p in g('/usr/share/games/fortunes/*') if '.' not in os.path.basename(p)], None),
        ('dict', 5_000_000, [p for p in g('/usr/share/dict/*') if os.path.isfile(p) and not os.path.islink(p)
                             and not p.endswith(('README.select-wordlist', '.txt'))], None),
        ('python-src', 8_000_000, g('/usr/lib/python3.11/**/*.py')[::2], None),
        ('perl-src', 3_000_000, g('/usr/share/perl/**/*.pm') + g('/usr/share/perl5/**/*.pm'), None),
        ('c-headers', 4_000_000, g('/usr/include/**/*.h')[::2], None),
        ('shell', 1_000_000, g('/usr/share/**/*.sh') + g('/usr/bin/*'), None),
    ]


def held_out(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    items = []
    items.append(('english-jargon.txt', read_text('/usr/share/doc/jargon-text/jargon.txt.gz') or b''))
    fr = b''.join(render_man(p) or b'' for p in sorted(glob.glob('/usr/share/man/fr/man1/*.gz'))[:200:4])
    items.append(('french-man.txt', fr))
    for name, data in items:
        with open(os.path.join(out_dir, name), 'wb') as f:
            f.write(data)
        print(f'held out {name}: {len(data)} bytes', file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='runs/corpus')
    ap.add_argument('--manifest', default='data/corpus/manifest.tsv')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(os.path.dirname(a.manifest), exist_ok=True)
    held_out(os.path.join(a.out, 'heldout'))
    seen, rows, starts, total = set(), [], [], 0
    with open(os.path.join(a.out, 'train.bin.tmp'), 'wb') as out:
        for name, budget, paths, conv in sources():
            owners = owner_of(paths[:4000]) if paths else {}
            used = 0
            for p in paths:
                if used >= budget:
                    break
                real = os.path.realpath(p)
                pkg = owners.get(p) or owners.get(real) or '?'
                if pkg in HELD_OUT_PACKAGES or 'jargon' in p or 'bible' in p or '/fr/' in p:
                    continue
                if conv is render_man:
                    raw = render_man(p)
                else:
                    raw = read_text(p)
                    if raw is not None and conv is not None:
                        raw = conv(raw)
                if not raw or len(raw) < 64:
                    continue
                raw = raw[:DOC_CAP]
                h = hashlib.sha256(raw).hexdigest()
                if h in seen:
                    continue
                seen.add(h)
                starts.append(total)
                out.write(raw)
                total += len(raw)
                used += len(raw)
                rows.append(f'{name}\t{pkg}\t{p}\t{len(raw)}\t{h}')
            print(f'{name}: {used} bytes', file=sys.stderr)
    os.replace(os.path.join(a.out, 'train.bin.tmp'), os.path.join(a.out, 'train.bin'))
    import numpy as np
    np.save(os.path.join(a.out, 'starts.npy'), np.array(starts, dtype=np.int64))
    with open(a.manifest + '.tmp', 'w') as f:
        f.write('source\tpackage\tfile\tbytes\tsha256\n')
        f.write('\n'.join(rows) + '\n')
        f.write(f'# total\t{len(rows)} documents\t\t{total}\t\n')
    os.replace(a.manifest + '.tmp', a.manifest)
    print(f'corpus: {len(rows)} documents, {total} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
