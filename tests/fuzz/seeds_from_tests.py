#!/usr/bin/env python3
"""Writes seed inputs for a fuzz target from the string literals of test files.

  tests/fuzz/seeds_from_tests.py OUT_DIR [--json] [--contains TEXT] TEST.cc ...

Adjacent literals are joined as the compiler joins them; ordinary and raw literals are
decoded. --json keeps literals that start with '{' or '[' (after spaces); --contains keeps
those that contain TEXT. Each seed is named by the SHA-1 of its bytes, so a rerun adds nothing
twice.
"""
import hashlib
import os
import re
import sys

ESC = {'n': b'\n', 'r': b'\r', 't': b'\t', '0': b'\0', '\\': b'\\', '"': b'"', "'": b"'",
       'a': b'\a', 'b': b'\b', 'f': b'\f', 'v': b'\v', '?': b'?'}


def literals(src):
    """Yields each run of adjacent string literals in src, decoded to bytes."""
    i, n = 0, len(src)
    run, last_end = None, -1
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            i = src.find('\n', i)
            i = n if i < 0 else i
            continue
        if c == "'":  # a character literal
            j = i + 1
            while j < n and src[j] != "'":
                j += 2 if src[j] == '\\' else 1
            i = j + 1
            continue
        m = re.match(r'(u8)?R"([^(\s]*)\(', src[i:])
        if m:
            end = src.find(')' + m.group(2) + '"', i + m.end())
            value = src[i + m.end():end].encode()
            start, i = i, end + len(m.group(2)) + 2
        elif c == '"':
            j, out = i + 1, bytearray()
            while src[j] != '"':
                if src[j] == '\\':
                    e = src[j + 1]
                    if e == 'x':
                        h = re.match(r'[0-9a-fA-F]+', src[j + 2:]).group(0)
                        out.append(int(h, 16) & 0xFF)
                        j += 2 + len(h)
                        continue
                    if e in '01234567':
                        o = re.match(r'[0-7]{1,3}', src[j + 1:]).group(0)
                        out.append(int(o, 8) & 0xFF)
                        j += 1 + len(o)
                        continue
                    out += ESC.get(e, e.encode())
                    j += 2
                else:
                    out += src[j].encode()
                    j += 1
            value, start, i = bytes(out), i, j + 1
        else:
            i += 1
            continue
        if run is not None and src[last_end:start].strip() == '':
            run += value
        else:
            if run is not None:
                yield run
            run = value
        last_end = i
    if run is not None:
        yield run


def main(argv):
    out, files, want_json, contains = argv[0], [], False, None
    args = iter(argv[1:])
    for a in args:
        if a == '--json':
            want_json = True
        elif a == '--contains':
            contains = next(args).encode()
        else:
            files.append(a)
    os.makedirs(out, exist_ok=True)
    written = 0
    for f in files:
        with open(f, encoding='utf-8') as fh:
            for value in literals(fh.read()):
                if want_json and not value.lstrip()[:1] in (b'{', b'['):
                    continue
                if contains is not None and contains not in value:
                    continue
                name = os.path.join(out, hashlib.sha1(value).hexdigest()[:16])
                if not os.path.exists(name):
                    with open(name, 'wb') as fh2:
                        fh2.write(value)
                    written += 1
    print(f'{out}: {written} new seeds')


if __name__ == '__main__':
    main(sys.argv[1:])
