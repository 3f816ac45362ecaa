#!/usr/bin/env python3
"""Writes the committed seed inputs, fuzz/seeds/<target>/<name>.

Each seed is one meaningful case (a valid request, the RFC 6749 Appendix B vector, a repeated
parameter, a bad escape, ...). Re-run after changing a case: `python3 fuzz/make_seeds.py`.
Crash reproducers found by fuzzing are added by hand as seeds/<target>/crash-<what>.
"""
import base64
import hashlib
import hmac
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")

VECTOR_ID = "1PpG/Q 1"
VECTOR_SECRET = "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw="
VECTOR_HEADER = ("Basic MVBwRyUyRlErMTp6JTJGdFo5VndGWnFBcG1JUSUyQlpIMUk1cExrJTJGdUI0dWQlM0FY"
                 "MiUyRjhiTCUyQndmRlR0MXJGdyUzRA==")
FORM_CT = "content-type: application/x-www-form-urlencoded"


def encode_component(s):
    """RFC 6749 Appendix B, as jeton::form::encode_component."""
    out = []
    for b in s.encode():
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-._*"):
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def encode_basic(i, s):
    raw = (encode_component(i) + ":" + encode_component(s)).encode()
    return "Basic " + base64.b64encode(raw).decode()


def b64(raw):
    return base64.b64encode(raw).decode()


def b64url(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


API_URL = "https://api.example.com/orders"
PROOF_HEADER = '{"typ":"dpop+jwt","alg":"EdDSA","jwk":{jwk}}'


def proof_claims(htm="GET", htu=API_URL, iat="{now}", ath="{ath}", jti="p-1"):
    """The claims of a resource-server proof (RFC 9449 §4.2, §7.1), as JSON text."""
    claims = '{"jti":"%s","htm":"%s","htu":"%s","iat":%s' % (jti, htm, htu, iat)
    if ath is not None:
        claims += ',"ath":"%s"' % ath
    return claims + "}"


def signed(header=PROOF_HEADER, claims=None):
    """A `dpop-signed:` line: the fuzz check signs header and claims with the proof key."""
    return "dpop-signed: %s|%s" % (header, claims or proof_claims())


def api(method="GET", auth=("DPoP {bound}",), proofs=None, claims=None, extra=()):
    """A request to the protected route of the resource_request target."""
    if proofs is None:
        proofs = [signed(claims=claims)]
    head = [method] + ["authorization: " + a for a in auth] + list(proofs) + list(extra)
    return "\n".join(head) + "\n"


def request(method="POST", auth=(), body="", secure=True, ct=(FORM_CT,), query=None):
    head = [method]
    if query is not None:
        head.append("?" + query)
    head += list(ct)
    head += ["authorization: " + a for a in auth]
    if secure:
        head.append("secure")
    return "\n".join(head) + "\n\n" + body


assert encode_basic(VECTOR_ID, VECTOR_SECRET) == VECTOR_HEADER

salt = bytes(range(16))
hmac_verifier = "$hmac-sha256$%s$%s" % (
    b64url(salt), b64url(hmac.new(salt, b"s3cret", hashlib.sha256).digest()))
pbkdf2_hash = hashlib.pbkdf2_hmac("sha256", b"s3cret", salt, 1000)
pbkdf2_verifier = "$pbkdf2-sha256$i=1000$%s$%s" % (b64url(salt), b64url(pbkdf2_hash))
token_body = "jt_" + b64url(hashlib.sha256(b"fuzz seed token").digest())
opaque_token = token_body + b64url(hashlib.sha256(token_body.encode()).digest()[:4])
assert len(opaque_token) == 52

CC = "grant_type=client_credentials"
BASIC = encode_basic("basic-client", "basic-secret-0123456789")

SEEDS = {
    "form": {
        "typical": CC + "&scope=read+write&resource=https%3A%2F%2Fapi.example.com%2F",
        "appendix-b-escapes": "scope=a+b%20c&x=%E2%82%AC&grant%5Ftype=client_credentials",
        "lowercase-hex": "k=%2f%2B%2a&v=%7e",
        "post-credentials": CC + "&client_id=post-client&client_secret=post-secret-0123456789",
        "repeated-param": CC + "&" + CC + "&scope=read",
        "repeated-resource": "resource=urn%3Aa&resource=urn%3Ab",
        "empty-values": "a=&b&c=1&&=&==",
        "value-with-equals": "a=b=c&=noname",
        "bad-escape": "a=%G1&b=%4",
        "trailing-percent": "a=%",
        "not-utf8-escaped": "a=%FF%FE",
        "not-utf8-raw": b"a=\xff\xfe&b=\xc3",
        "overlong-utf8": "x=%C0%AF",
        "four-byte-utf8": "scope=%F0%9F%98%80&name=caf%C3%A9",
        "too-many-pairs": "a=1&" * 65,
    },
    "basic": {
        "rfc6749-vector": VECTOR_HEADER,
        "fixture-client": BASIC,
        "lowercase-scheme-tab": "basic\t" + b64(b"a:b"),
        "padded-whitespace": "  BASIC   " + b64(b"a:b") + "  ",
        "unpadded": "Basic " + b64(b"ab:c").rstrip("="),
        "raw-second-colon": "Basic " + b64(b"id:pa:ss"),
        "encoded-colon": encode_basic("urn:client:1", "s:e:c"),
        "bearer": "Bearer abc",
        "scheme-only": "Basic",
        "bad-token68": "Basic !!!!",
        "bad-base64": "Basic a",
        "no-colon": "Basic " + b64(b"nocolon"),
        "empty-user": "Basic " + b64(b":secret"),
        "bad-escape": "Basic " + b64(b"a:%ZZ"),
        "control-char": "Basic " + b64(b"a:%0A"),
        "not-utf8": "Basic " + b64(b"\xff:x"),
        "bad-scheme": "B@sic abc",
        "derived-pair": "client id+1\nsecret:with:colons%and spaces",
    },
    "scope": {
        "two-tokens": "read write",
        "duplicates": "read write read",
        "leading-space": " read",
        "double-space": "read  write",
        "nqchar-edges": "a!#[]~",
        "quote": 'a"b',
        "backslash": "a\\b",
        "non-ascii": "caf\u00e9",
        "too-many-tokens": " ".join("t%d" % i for i in range(65)),
        "resource-https": "https://api.example.com/v1",
        "resource-urn": "urn:example:api",
        "resource-fragment": "https://a/#frag",
        "vector-client-id": VECTOR_ID,
        "verifier-hmac": hmac_verifier,
        "verifier-pbkdf2": pbkdf2_verifier,
        "verifier-leading-zero": pbkdf2_verifier.replace("i=1000", "i=0001000"),
        "verifier-low-iterations": pbkdf2_verifier.replace("i=1000", "i=10"),
        "opaque-token": opaque_token,
    },
    "token_request": {
        "basic-ok": request(auth=[BASIC], body=CC + "&scope=read"),
        "rfc6749-vector": request(auth=[VECTOR_HEADER], body=CC),
        "post-credentials": request(
            body=CC + "&client_id=post-client&client_secret=post-secret-0123456789"),
        "resources": request(
            auth=[encode_basic("resource-client", "resource-secret-0123")],
            body=CC + "&resource=https%3A%2F%2Fapi.example.com%2F"
                      "&resource=https%3A%2F%2Fother.example.com%2F"),
        "pbkdf2-client": request(auth=[encode_basic("pbkdf2-client", "correct horse battery")],
                                 body=CC),
        "wrong-secret": request(auth=[encode_basic("basic-client", "wrong")], body=CC + "&scope=read"),
        "unknown-client": request(auth=[encode_basic("nobody", "basic-secret-0123456789")], body=CC),
        "expired-secret": request(auth=[encode_basic("rotating-client", "rotating-old-secret-01")],
                                  body=CC),
        "disabled-client": request(auth=[encode_basic("disabled-client", "disabled-secret-0123")],
                                   body=CC),
        "public-client-id-only": request(body=CC + "&client_id=public-client"),
        "no-cc-client": request(auth=[encode_basic("no-cc-client", "no-cc-secret-012345")], body=CC),
        "get-method": request(method="GET", auth=[BASIC], body=CC),
        "not-secure": request(auth=[BASIC], body=CC, secure=False),
        "secret-in-query": request(auth=[BASIC], body=CC, query="client_secret=x"),
        "repeated-grant-type": request(auth=[BASIC], body=CC + "&" + CC + "&scope=read"),
        "two-authorization": request(auth=[BASIC, BASIC], body=CC),
        "basic-and-body-secret": request(auth=[BASIC], body=CC + "&client_secret=x"),
        "json-content-type": request(auth=[BASIC], body=CC,
                                     ct=["content-type: application/json"]),
        "charset-bad-escape": request(
            auth=[BASIC], body="grant_type=%G1",
            ct=["content-type: application/x-www-form-urlencoded; charset=utf-8"]),
    },
    # See ResourceFuzzRequest in crates/jeton-testkit/src/fuzzing/resource_request.rs:
    # placeholders stand for the tokens, the bound token's hash, the proof key and the time.
    "resource_request": {
        "dpop-valid": api(),
        "dpop-valid-scope-required": api(extra=["scope: read"]),
        "dpop-lowercase-scheme": api(auth=["dpop {bound}"]),
        "dpop-htu-query-ignored": api(claims=proof_claims(htu=API_URL + "?page=2")),
        "dpop-host-header": api(extra=["host: api.example.com"]),
        "bearer-valid": api(auth=["Bearer {bearer}"], proofs=[]),
        "bound-as-bearer": api(auth=["Bearer {bound}"]),
        "unbound-as-dpop": api(auth=["DPoP {bearer}"]),
        "dpop-no-proof": api(proofs=[]),
        "dpop-two-proofs": api(proofs=[signed(), signed()]),
        "two-authorization": api(auth=["DPoP {bound}", "Bearer {bearer}"]),
        "dpop-wrong-ath": api(claims=proof_claims(ath="bm90LXRoZS10b2tlbnMtaGFzaA")),
        "dpop-no-ath": api(claims=proof_claims(ath=None)),
        "dpop-wrong-htm": api(claims=proof_claims(htm="POST")),
        "dpop-wrong-htu": api(claims=proof_claims(htu="https://api.example.com/invoices")),
        "dpop-other-host": api(extra=["host: evil.example.com"]),
        "dpop-other-path": api(extra=["path: /orders/1"]),
        "dpop-stale": api(claims=proof_claims(iat="1")),
        "dpop-wrong-typ": api(proofs=[signed(header=PROOF_HEADER.replace("dpop+jwt", "JWT"))]),
        "dpop-alg-none": api(proofs=[signed(header=PROOF_HEADER.replace("EdDSA", "none"))]),
        "dpop-garbage": api(proofs=["dpop: not.a.jwt"]),
        "dpop-scheme-only": api(auth=["DPoP"]),
        "insufficient-scope": api(extra=["scope: admin"]),
        "no-authorization": api(auth=[]),
        "other-scheme": api(auth=["Basic YTpi"]),
    },
}


def main():
    for target, seeds in SEEDS.items():
        d = os.path.join(ROOT, target)
        os.makedirs(d, exist_ok=True)
        for name, content in seeds.items():
            data = content if isinstance(content, bytes) else content.encode()
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    print("wrote", sum(len(s) for s in SEEDS.values()), "seeds under", ROOT, file=sys.stderr)


if __name__ == "__main__":
    main()
