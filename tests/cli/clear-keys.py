#!/usr/bin/python3
"""Find private keys in clear text in the git repositories under a directory.

    clear-keys.py DIR

Every repository under DIR (a directory with .git, or a bare one): every git
object (git cat-file --batch-all-objects, loose and packed), every file of
the work tree and of .git itself except the object store (read through git
above).  A private key in clear text is any of:
  PEM   BEGIN PRIVATE KEY, BEGIN RSA/EC/DSA PRIVATE KEY without
        "Proc-Type: 4,ENCRYPTED", BEGIN OPENSSH PRIVATE KEY;
  DER   an unencrypted PKCS#8 PrivateKeyInfo (version 0 before an RSA, EC,
        Ed25519 or Ed448 algorithm), a SEC1 ECPrivateKey (version 1, a 32,
        48 or 66-byte scalar, then [0]), a PKCS#1 RSAPrivateKey (version 0
        then a long INTEGER);
  the base64 of the same DER, as a bare YAML or JSON value would hold it.
Independent of certctl's own scan (certctl fsck): this is what the test
suite trusts.  Paths listed in DIR/.clear-keys-allowed (one per line,
"REPO-RELATIVE-DIR:PATH" or "REPO-RELATIVE-DIR:*") are expected and
skipped: tests that put a clear key in a work tree on purpose, to see
certctl refuse or report it.  Prints one line per finding; exit 1 if any.
"""
import base64
import os
import re
import subprocess
import sys

PEM = re.compile(rb"-----BEGIN (RSA |EC |DSA |OPENSSH |)PRIVATE KEY-----(.{0,200})", re.S)
ALGS = {
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01": "RSA",
    b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01": "EC",
    b"\x06\x03\x2b\x65\x70": "Ed25519",
    b"\x06\x03\x2b\x65\x71": "Ed448",
    b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a": "RSA-PSS",
}
PKCS8 = re.compile(rb"\x02\x01\x00\x30[\x00-\x7f](" + b"|".join(re.escape(k) for k in ALGS) + rb")")
SEC1 = re.compile(rb"\x02\x01\x01\x04(\x20.{32}|\x30.{48}|\x42.{66})\xa0", re.S)
PKCS1 = re.compile(rb"\x30\x82..\x02\x01\x00\x02\x82..\x00", re.S)
DER_RES = (("PKCS#8 DER", PKCS8), ("SEC1 DER", SEC1), ("PKCS#1 DER", PKCS1))
def b64_needles():
    """Each DER prefix at the three alignments base64 can put it in."""
    out = []
    for der in (b"\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01",
                b"\x02\x01\x00\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01",
                b"\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70",
                b"\x30\x77\x02\x01\x01\x04\x20",  # SEC1 P-256
                b"\x30\x81\xa4\x02\x01\x01\x04\x30",  # SEC1 P-384
                b"\x02\x01\x00\x02\x82\x01\x01\x00"):  # PKCS#1 RSA-2048
        for pad in range(3):
            enc = base64.b64encode(b"\x00" * pad + der)
            # drop what the padding bytes and a partial last group touch
            start = (pad * 8 + 5) // 6
            stop = (len(der) + pad) * 8 // 6
            needle = enc[start:stop]
            if len(needle) >= 8:
                out.append(needle)
    return out


NEEDLES = b64_needles()


def findings(data):
    found = []
    for m in PEM.finditer(data):
        if b"Proc-Type: 4,ENCRYPTED" not in m.group(2):
            found.append("PEM %sPRIVATE KEY" % m.group(1).decode())
    for name, rx in DER_RES:
        if rx.search(data):
            found.append(name)
    for n in NEEDLES:
        if n in data:
            found.append("base64 of a DER private key")
            break
    return found


def repos(top):
    for root, dirs, files in os.walk(top):
        if ".git" in dirs:
            yield root, os.path.join(root, ".git")
            dirs.remove(".git")
        elif "objects" in dirs and "refs" in dirs and "HEAD" in files:
            yield root, root  # a bare repository
            dirs[:] = []


def allowed_list(top):
    path = os.path.join(top, ".clear-keys-allowed")
    if not os.path.exists(path):
        return set()
    return {l.strip() for l in open(path) if l.strip() and not l.startswith("#")}


def main():
    top = sys.argv[1]
    allowed = allowed_list(top)
    bad = []
    for work, gitdir in repos(top):
        rel = os.path.relpath(work, top)

        def ok(path):
            return "%s:*" % rel in allowed or "%s:%s" % (rel, path) in allowed

        p = subprocess.run(["git", "--git-dir", gitdir, "cat-file", "--batch-all-objects",
                            "--batch", "--unordered"], capture_output=True)
        data, pos = p.stdout, 0
        while pos < len(data):
            nl = data.index(b"\n", pos)
            head = data[pos:nl].split()
            if len(head) < 3 or head[1] == b"missing":
                break
            size = int(head[2])
            body = data[nl + 1:nl + 1 + size]
            pos = nl + 1 + size + 1
            if head[1] == b"blob":
                for f in findings(body):
                    if not ok("object " + head[0].decode()):
                        bad.append("%s: git object %s: %s" % (rel, head[0].decode(), f))
        for root, dirs, files in os.walk(work):
            if os.path.abspath(root) == os.path.abspath(os.path.join(gitdir, "objects")):
                dirs[:] = []
                continue
            for name in files:
                path = os.path.join(root, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as fh:
                    body = fh.read(16 << 20)
                rpath = os.path.relpath(path, work)
                for f in findings(body):
                    if not ok(rpath):
                        bad.append("%s: %s: %s" % (rel, rpath, f))
    for line in bad:
        print(line)
    sys.exit(1 if bad else 0)


main()
