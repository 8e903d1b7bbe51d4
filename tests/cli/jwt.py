#!/usr/bin/python3
"""jwt.py — JSON Web Tokens for the tests (no PyPI: hmac, and the openssl
command line for RSA and ECDSA signatures).

  jwt.py ALG KEY PAYLOAD [HEADER]

ALG: HS256 (KEY: a file whose bytes are the secret, trailing newline
stripped as serve does), RS256 / ES256 (KEY: a private key in PEM), none
(KEY ignored: an empty signature), HS256-raw (HMAC with KEY's bytes exactly
as they are, e.g. a public key's PEM: the algorithm-confusion attack).
PAYLOAD and HEADER are JSON text; HEADER defaults to {"alg":ALG,"typ":"JWT"}
(with HS256 for HS256-raw).  `@+N` / `@-N` anywhere in PAYLOAD becomes now
plus or minus N seconds.  Prints the token.
"""
import base64
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def der_to_raw(der):
    """ECDSA-Sig-Value (SEQUENCE of two INTEGERs) to r || s, 32 bytes each."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\0")
        out += v.rjust(32, b"\0")
        i += 2 + n
    return out


def sign(alg, key, data):
    if alg == "none":
        return b""
    if alg == "HS256-raw":
        return hmac.new(open(key, "rb").read(), data, hashlib.sha256).digest()
    if alg == "HS256":
        secret = open(key, "rb").read()
        if secret.endswith(b"\n"):
            secret = secret[:-1]
        if secret.endswith(b"\r"):
            secret = secret[:-1]
        return hmac.new(secret, data, hashlib.sha256).digest()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=data,
                         capture_output=True, check=True).stdout
    return der_to_raw(sig) if alg == "ES256" else sig


def main():
    alg, key, payload, *rest = sys.argv[1:]
    now = int(time.time())
    payload = re.sub(r"@([+-]\d+)", lambda m: str(now + int(m.group(1))), payload)
    json.loads(payload)  # the tests' own mistakes show here, not as a server refusal
    hdr_alg = "HS256" if alg == "HS256-raw" else alg
    header = rest[0] if rest else json.dumps({"alg": hdr_alg, "typ": "JWT"}, separators=(",", ":"))
    signing = (b64url(header.encode()) + "." + b64url(payload.encode())).encode()
    print(signing.decode() + "." + b64url(sign(alg, key, signing)))


if __name__ == "__main__":
    main()
