#!/usr/bin/env python3
"""Independent checker for Fieldkit's sync-protocol test vectors.

Re-derives every verdict in sync-protocol/test-vectors/*.json from the protocol rules
alone -- PyNaCl (libsodium) for ed25519, pyhpke for HPKE, pyca/cryptography for the
ChaCha20-Poly1305 STREAM chunks and a small RFC 8941 parser for HTTP signatures --
never by calling the Rust implementation, so that a bug shared by the Rust code and the
vectors it generated cannot go unnoticed.

Usage: python3 tests/python/check_vectors.py [VECTOR_DIR]
Prints one line per case and a final "N passed, M failed"; exits 0 only if all passed.
"""
import base64
import binascii
import hashlib
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

RECORD_TYPE = "application/vnd.fieldkit.record.v1+json"
HPKE_SUITE = "DHKEM-X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20-Poly1305"
HPKE_INFO = b"fieldkit/v1 case payload"
ZERO_HASH = "0" * 64
CHUNK, TAG = 65536, 16
FK_COVERED = ["@method", "@target-uri", "content-digest", "fieldkit-protocol"]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SLUG = r"[a-z0-9][a-z0-9-]{0,63}"
HEX64 = r"[0-9a-f]{64}"
MEDIA_TOKEN = r"[A-Za-z0-9!#$&\-^_.+]{1,64}"

class Bad(Exception):
    """A protocol rule does not hold: the thing checked is invalid."""

def need(cond, why):
    if not cond:
        raise Bad(why)

def full(pattern, text):
    return isinstance(text, str) and re.fullmatch(pattern, text) is not None

def is_uint(v, bits):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**bits

def b64d(text, n=None, what="base64"):
    """Standard padded base64, canonical only: decode, re-encode, compare."""
    need(isinstance(text, str), f"{what}: not a string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error) as e:
        raise Bad(f"{what}: not base64 ({e})") from None
    need(base64.b64encode(raw).decode() == text, f"{what}: non-canonical base64")
    need(n is None or len(raw) == n, f"{what}: {len(raw)} bytes where {n} are required")
    return raw

def ed25519_ok(pk, msg, sig):
    try:
        nacl.signing.VerifyKey(pk).verify(msg, sig)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False

def strict_json(raw):
    """JSON as serde_json reads it: UTF-8, no duplicate keys, no NaN, -0 is not an integer."""
    def pairs(kv):
        need(len({k for k, _ in kv}) == len(kv), "duplicate key in JSON object")
        return dict(kv)

    def constant(c):
        raise Bad(f"{c} is not JSON")
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant,
                          parse_int=lambda s: -0.0 if s == "-0" else int(s))
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError
        raise Bad(f"payload is not UTF-8 JSON: {e}") from None

def verdict(fn):
    try:
        fn()
        return True, ""
    except Bad as e:
        return False, str(e)

def same_verdict(ok, why, c):
    need(ok == c["valid"], f"checker says {'valid' if ok else 'invalid: ' + why}; "
                           f"vector says valid={c['valid']} ({c['reason']})")
    return "valid" if ok else f"invalid: {why}"

# --- the record model (record.rs, ids.rs, seal.rs, time.rs) ---------------------------
def check_time(text, what, with_time=True):
    """`YYYY-MM-DD` or RFC 3339 UTC with milliseconds and `Z`: one spelling per instant."""
    rx = r"([0-9]{4})-([0-9]{2})-([0-9]{2})" + (r"T([0-9]{2}):([0-9]{2}):([0-9]{2})\.[0-9]{3}Z"
                                                 if with_time else "")
    m = re.fullmatch(rx, text) if isinstance(text, str) else None
    need(m is not None, f"{what}: not the protocol's {'timestamp' if with_time else 'date'} form")
    y, mo, d, *hms = map(int, m.groups())
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    need(1 <= mo <= 12 and 1 <= d <= days[mo - 1], f"{what}: no such date")
    need(not hms or (hms[0] < 24 and hms[1] < 60 and hms[2] <= 60), f"{what}: no such time")

def exact_keys(obj, required, optional=(), what="object"):
    need(isinstance(obj, dict), f"{what}: not an object")
    need(not set(obj) - set(required) - set(optional), f"{what}: unknown fields")
    need(not set(required) - set(obj), f"{what}: missing fields {set(required) - set(obj)}")

def ciphertext_len(plain):
    return plain + max(1, -(-plain // CHUNK)) * TAG

def check_sealed(s):
    exact_keys(s, ["suite", "key_id", "enc", "ct"], what="sealed")
    need(s["suite"] == HPKE_SUITE, "sealed.suite is not the protocol's suite")
    need(full(r"[0-9a-f]{16}", s["key_id"]), "sealed.key_id: expected 16 lower-case hex")
    b64d(s["enc"], 32, "sealed.enc")
    need(len(b64d(s["ct"], what="sealed.ct")) >= TAG, "sealed.ct shorter than the tag")

def check_record(r):
    exact_keys(r, ["v", "record_id", "kit_id", "seq", "prev_hash", "device_time", "clerk_id",
                   "kind", "leika", "form_id", "form_version", "authority_id", "ars",
                   "visit_date", "sealed", "attachments"], ["references"], "record")
    need(is_uint(r["v"], 32) and r["v"] == 1, "v must be 1")
    need(full(UUID, r["record_id"]) and r["record_id"][14] == "7", "record_id must be a UUIDv7")
    need(is_uint(r["seq"], 64) and 1 <= r["seq"] <= 2**53 - 1, "seq must be in 1..2^53-1")
    need(full(HEX64, r["prev_hash"]), "prev_hash must be 64 lower-case hex")
    need((r["seq"] == 1) == (r["prev_hash"] == ZERO_HASH), "prev_hash zero exactly at seq 1")
    check_time(r["device_time"], "device_time")
    for f in ("clerk_id", "form_id", "authority_id"):
        need(full(SLUG, r[f]), f"{f} must be a slug")
    need(r["kind"] in ("application", "correction", "withdrawal"), "unknown kind")
    ref = r.get("references")
    need(ref is None or full(UUID, ref), "references must be a UUID")
    if r["kind"] == "application":
        need(ref is None, "an application references nothing")
    else:
        need(ref not in (None, r["record_id"]), "must reference another, original record")
    need(full(r"99[0-9]{12}", r["leika"]), "leika must be 14 digits starting with 99")
    need(is_uint(r["form_version"], 32) and r["form_version"] >= 1, "form_version >= 1")
    need(full(r"[0-9]{2}|[0-9]{3}|[0-9]{5}|[0-9]{9}|[0-9]{12}", r["ars"]), "ars: bad length")
    check_time(r["visit_date"], "visit_date", with_time=False)
    check_sealed(r["sealed"])
    atts = r["attachments"]
    need(isinstance(atts, list) and len(atts) <= 64, "attachments: a list of at most 64")
    for i, a in enumerate(atts):
        exact_keys(a, ["id", "purpose", "media_type", "size", "sha256", "ciphertext_size",
                       "ciphertext_sha256"], what="attachment")
        need(full(UUID, a["id"]) and a["id"] not in [b["id"] for b in atts[:i]], "bad id")
        need(a["purpose"] in ("form", "attachment", "report"), "unknown purpose")
        mt = a["media_type"]
        need(full(MEDIA_TOKEN + "/" + MEDIA_TOKEN, mt) and mt == mt.lower(), "bad media_type")
        need(full(HEX64, a["sha256"]) and full(HEX64, a["ciphertext_sha256"]), "bad hash")
        need(is_uint(a["size"], 64) and a["size"] <= 512 * 2**20, "attachment too large")
        need(is_uint(a["ciphertext_size"], 64)
             and a["ciphertext_size"] == ciphertext_len(a["size"]), "ciphertext_size mismatch")

def verify_record_envelope(env, kit_id, pk):
    """Returns (record, payload bytes) or raises Bad: PROTOCOL.md section 3."""
    exact_keys(env, ["payloadType", "payload", "signatures"], what="envelope")
    need(isinstance(env["payloadType"], str) and isinstance(env["payload"], str)
         and isinstance(env["signatures"], list), "envelope: wrong field types")
    for s in env["signatures"]:
        exact_keys(s, ["keyid", "sig"], what="signature")
        need(isinstance(s["keyid"], str) and isinstance(s["sig"], str), "signature: types")
    compact = json.dumps(env, separators=(",", ":"), ensure_ascii=False).encode()
    need(len(compact) <= 2 * 2**20, "envelope larger than 2 MiB")
    need(len(env["signatures"]) == 1, "exactly one signature required")
    need(env["signatures"][0]["keyid"] == kit_id, "keyid is not the kit id")
    need(env["payloadType"] == RECORD_TYPE, "wrong payloadType")
    sig = b64d(env["signatures"][0]["sig"], 64, "sig")
    payload = b64d(env["payload"], what="payload")
    ptype = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    need(ed25519_ok(pk, pae, sig), "bad signature")
    need(len(payload) <= 2**20, "record payload larger than 1 MiB")
    record = strict_json(payload)
    need(isinstance(record, dict) and full(UUID, record.get("kit_id")), "record: bad kit_id")
    need(record["kit_id"] == kit_id, "record kit_id is not the signing kit")
    check_record(record)
    return record, payload

def check_envelope_case(c):
    pk = bytes.fromhex(c["public_key_hex"])
    return same_verdict(*verdict(lambda: verify_record_envelope(c["envelope"], c["kit_id"], pk)), c)

# --- chains (chain.rs::verify_run) -----------------------------------------------------
def verify_run(anchor, links):
    by_seq = {}
    for seq, prev, h in links:
        by_seq.setdefault(seq, {})[h] = prev
    findings = []
    preds = [anchor["hash"] if anchor else ZERO_HASH]  # what the next record may name
    if anchor is not None and anchor["seq"] in by_seq:
        hashes = sorted(by_seq[anchor["seq"]])
        if anchor["hash"] not in hashes:  # a fork at the anchor: every side may continue
            preds += hashes
            findings.append({"finding": "fork", "seq": anchor["seq"],
                             "hashes": sorted(hashes + [anchor["hash"]])})
    expected = (anchor["seq"] if anchor else 0) + 1
    for seq in sorted(s for s in by_seq if s >= expected):
        recs = by_seq[seq]
        if seq > expected:  # the predecessor is missing: the link cannot be judged
            findings.append({"finding": "gap", "seq": expected, "last_missing": seq - 1})
        else:
            findings += [{"finding": "wrong_link", "seq": seq, "expected_prev": preds[0],
                          "found_prev": recs[h]} for h in sorted(recs) if recs[h] not in preds]
        if len(recs) > 1:
            findings.append({"finding": "fork", "seq": seq, "hashes": sorted(recs)})
        preds, expected = sorted(recs), seq + 1
    return findings

def check_chain_case(c):
    pk, runs = bytes.fromhex(c["public_key_hex"]), []
    for i, env in enumerate(c["envelopes"]):
        ok, why = verdict(lambda: runs.append(verify_record_envelope(env, c["kit_id"], pk)))
        need(ok, f"envelope {i} does not verify: {why}")
    found = verify_run(c["anchor"], [(r["seq"], r["prev_hash"], hashlib.sha256(p).hexdigest())
                                     for r, p in runs])
    need(found == c["findings"], f"findings {found} != vector {c['findings']}")
    return f"{len(found)} finding(s) as expected"

# --- HPKE (seal.rs) --------------------------------------------------------------------
SUITE = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256,
                        AEADId.CHACHA20_POLY1305)

def check_hpke_case(c):
    h = {k: bytes.fromhex(c[k]) for k in ("ikmR", "skRm", "pkRm", "ikmE", "enc", "info", "aad",
                                          "pt", "ct")}
    kp = SUITE.kem.derive_key_pair(h["ikmR"])
    need(kp.private_key.to_private_bytes() == h["skRm"], "DeriveKeyPair(ikmR) != skRm")
    need(kp.public_key.to_public_bytes() == h["pkRm"], "DeriveKeyPair(ikmR) != pkRm")
    try:
        pt = SUITE.create_recipient_context(h["enc"], kp.private_key, h["info"]).open(h["ct"],
                                                                                      h["aad"])
    except Exception as e:  # pyhpke's OpenError and friends
        raise Bad(f"open failed: {e!r}") from None
    need(pt == h["pt"], "opened plaintext != pt")
    enc, ctx = SUITE.create_sender_context(kp.public_key, h["info"],
                                           eks=SUITE.kem.derive_key_pair(h["ikmE"]))
    need(enc == h["enc"], "sealing with DeriveKeyPair(ikmE) gives another enc")
    need(ctx.seal(h["pt"], h["aad"]) == h["ct"], "sealing with DeriveKeyPair(ikmE) gives another ct")
    if c["source"] != "fieldkit":
        need(c["source"] == "RFC 9180 A.2.1", f"unknown source {c['source']}")
        return "derive, open and seal match"
    need(h["info"] == HPKE_INFO, "info is not the protocol's fixed info")
    need(full(UUID, c["record_id"]) and full(UUID, c["kit_id"]) and full(SLUG, c["authority_id"]),
         "record identity malformed")
    aad = f"fieldkit/v1 record:{c['record_id']}:{c['kit_id']}:{c['authority_id']}"
    need(h["aad"] == aad.encode(), "aad is not the record identity")
    s = c["sealed"]
    check_sealed(s)
    need(b64d(s["enc"]) == h["enc"] and b64d(s["ct"]) == h["ct"], "sealed enc/ct differ")
    need(s["key_id"] == hashlib.sha256(h["pkRm"]).digest()[:8].hex(), "sealed.key_id wrong")
    return "derive, open and seal match; info, aad and sealed object as the protocol says"

# --- attachments (attachment.rs: STREAM, big-endian 32-bit counter, ChaCha20-Poly1305) --
def stream(key, prefix, aad, data, encrypt):
    size = CHUNK if encrypt else CHUNK + TAG
    chunks = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
    aead, out = ChaCha20Poly1305(key), []
    for i, chunk in enumerate(chunks):
        nonce = prefix + i.to_bytes(4, "big") + bytes([i == len(chunks) - 1])
        try:
            out.append((aead.encrypt if encrypt else aead.decrypt)(nonce, chunk, aad))
        except (InvalidTag, ValueError):
            raise Bad(f"chunk {i} does not authenticate") from None
    return b"".join(out)

def check_attachment_case(c):
    need(full(UUID, c["attachment_id"]), "attachment_id malformed")
    key, prefix = bytes.fromhex(c["key"]), bytes.fromhex(c["nonce_prefix"])
    need(len(key) == 32 and len(prefix) == 7, "key must be 32 bytes, prefix 7")
    ct, n, aad = bytes.fromhex(c["ciphertext"]), c["plaintext_len"], c["attachment_id"].encode()
    need(len(ct) == ciphertext_len(n), f"ciphertext is {len(ct)} bytes, not {ciphertext_len(n)}")
    plain = bytes(i % 251 for i in range(n))
    need(stream(key, prefix, aad, ct, False) == plain, "decrypted plaintext differs")
    need(stream(key, prefix, aad, plain, True) == ct, "re-encryption differs")
    need(hashlib.sha256(plain).hexdigest() == c["plaintext_sha256"], "plaintext_sha256 wrong")
    need(hashlib.sha256(ct).hexdigest() == c["ciphertext_sha256"], "ciphertext_sha256 wrong")
    return f"{n} bytes in {max(1, -(-n // CHUNK))} chunk(s) decrypt, re-encrypt and hash"

# --- RFC 8941 structured fields: dictionaries, as RFC 9421 needs them -------------------
class Token(str):
    """An sf-token, as opposed to an sf-string (a plain str)."""

SF_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
SF_BARE = re.compile(r'(?P<dec>-?[0-9]{1,12}\.[0-9]{1,3})(?![0-9.])|(?P<int>-?[0-9]{1,15})(?![0-9.])'
                     r'|"(?P<str>(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"'
                     r"|(?P<tok>[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*)"
                     r"|:(?P<bin>[A-Za-z0-9+/=]*):|\?(?P<bool>[01])")

def sf_match(rx, t, i, what):
    m = rx.match(t, i)
    need(m is not None, f"structured field: bad {what} at {i} of {t!r}")
    return m

def skip(t, i, chars=" "):
    while i < len(t) and t[i] in chars:
        i += 1
    return i

def sf_bytes(text):
    text = text.rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise Bad("structured field: bad byte sequence") from None

def sf_bare(t, i):
    m = sf_match(SF_BARE, t, i, "item")
    g = m.lastgroup
    parse = {"dec": Decimal, "int": int, "tok": Token, "bin": sf_bytes,
             "str": lambda s: re.sub(r'\\(["\\])', r"\1", s), "bool": lambda s: s == "1"}[g]
    return parse(m.group(g)), m.end()

def sf_params(t, i):
    params = {}
    while t.startswith(";", i):
        key = sf_match(SF_KEY, t, skip(t, i + 1), "parameter key")
        value, i = sf_bare(t, key.end() + 1) if t.startswith("=", key.end()) else (True, key.end())
        params[key.group()] = value  # a repeated key keeps its place, takes the last value
    return params, i

def sf_member(t, i):
    """An item or an inner list: ("item", value, params) or ("inner", [items], params)."""
    if not t.startswith("(", i):
        value, i = sf_bare(t, i)
        params, i = sf_params(t, i)
        return ("item", value, params), i
    items, i = [], i + 1
    while True:
        i = skip(t, i)
        if t.startswith(")", i):
            params, i = sf_params(t, i + 1)
            return ("inner", items, params), i
        item, i = sf_member(t, i)
        need(item[0] == "item" and t.startswith((" ", ")"), i), "structured field: bad inner list")
        items.append(item)

def sf_dictionary(t):
    out, i = {}, skip(t, 0)
    while i < len(t):
        key = sf_match(SF_KEY, t, i, "dictionary key")
        if t.startswith("=", key.end()):
            out[key.group()], i = sf_member(t, key.end() + 1)
        else:
            params, i = sf_params(t, key.end())
            out[key.group()] = ("item", True, params)
        i = skip(t, i, " \t")
        if i < len(t):
            need(t[i] == ",", "structured field: expected a comma")
            i = skip(t, i + 1, " \t")
            need(i < len(t), "structured field: trailing comma")
    return out

def sf_serialize(v):
    """Serializes a bare item, a member or an inner list (RFC 8941 section 4.1)."""
    if isinstance(v, tuple):
        params = "".join(f";{k}" + ("" if p is True else "=" + sf_serialize(p))
                         for k, p in v[2].items())
        if v[0] == "inner":
            return "(" + " ".join(sf_serialize(item) for item in v[1]) + ")" + params
        return sf_serialize(v[1]) + params
    if isinstance(v, bool):
        return "?1" if v else "?0"
    if isinstance(v, Decimal):
        return f"{v.quantize(Decimal('0.001')):f}".rstrip("0").rstrip(".") + ("" if v % 1 else ".0")
    if isinstance(v, (int, Token)):
        return str(v)
    if isinstance(v, bytes):
        return ":" + base64.b64encode(v).decode() + ":"
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

# --- RFC 9421 signatures (httpsig.rs) --------------------------------------------------
def alower(s):
    return "".join(ch.lower() if ch.isascii() else ch for ch in s)

def header_value(headers, name):
    values = [v.strip(" \t") for n, v in headers if alower(n) == name]
    need(values, f"header {name} is missing")
    return ", ".join(values)

def derived(c, name):
    if name in ("@method", "@target-uri"):
        return c["method"] if name == "@method" else c["target_uri"]
    m = re.fullmatch(r"([A-Za-z0-9+\-.]+)://([^/?]+)([^?]*)(?:\?(.*))?",
                     c["target_uri"].split("#")[0], re.S)
    need(m is not None, "@target-uri is not an absolute URI with an authority")
    scheme, authority, path, query = m.groups()
    path, port, authority = path or "/", {"https": ":443", "http": ":80"}.get(alower(scheme)), \
        alower(authority)
    values = {"@scheme": alower(scheme), "@path": path, "@query": "?" + (query or ""),
              "@authority": authority[:-len(port)] if port and authority.endswith(port) else authority,
              "@request-target": path if query is None else f"{path}?{query}"}
    need(name in values, f"unsupported derived component {name}")
    return values[name]

def signature_base(c, inner):
    lines = []
    for _, name, params in inner[1]:
        need(type(name) is str and not params, "components must be plain strings")
        need(name == alower(name), "component names are lower case")
        value = derived(c, name) if name.startswith("@") else header_value(c["headers"], name)
        need("\r" not in value and "\n" not in value, "line break in a covered value")
        lines.append(f'"{name}": {value}')
    return "\n".join(lines + [f'"@signature-params": {sf_serialize(inner)}'])

def find_labelled(c, label):
    inner = sf_dictionary(header_value(c["headers"], "signature-input")).get(label)
    sig = sf_dictionary(header_value(c["headers"], "signature")).get(label)
    need(inner is not None and inner[0] == "inner", f"no inner list labelled {label}")
    need(sig is not None and sig[0] == "item" and isinstance(sig[1], bytes), f"no sig {label}")
    need(len(sig[1]) == 64, "an ed25519 signature is 64 bytes")
    return inner, sig[1]

def verify_http(c, label):
    inner, sig = find_labelled(c, label)
    p = inner[2]
    if c["profile"] == "fieldkit":  # PROTOCOL.md section 7
        need([v for _, v, _ in inner[1] if type(v) is str] == FK_COVERED, "wrong covered list")
        need(type(p.get("created")) is int, "integer parameter created is required")
        need(c["now"] - 300 <= p["created"] <= c["now"] + 60, "created outside the window")
        need(type(p.get("alg")) is str and p["alg"] == "ed25519", "alg must be ed25519")
        need(type(p.get("nonce")) is str and full(r"[0-9a-f]{32}", p["nonce"]), "bad nonce")
        need(type(p.get("keyid")) is str and full(UUID, p["keyid"]), "keyid must be a kit id")
        need("kit_id" not in c or p["keyid"] == c["kit_id"], "keyid is not the kit")
        digest = sf_dictionary(header_value(c["headers"], "content-digest")).get("sha-256")
        need(digest is not None and digest[0] == "item" and isinstance(digest[1], bytes),
             "a sha-256 content digest is required")
        need(digest[1] == hashlib.sha256(c["body"].encode()).digest(), "content-digest mismatch")
    base = signature_base(c, inner).encode()
    need(ed25519_ok(bytes.fromhex(c["public_key_hex"]), base, sig), "bad signature")

def check_http_case(c):
    need(c["profile"] in ("fieldkit", "rfc9421"), f"unknown profile {c['profile']}")
    label = "fk" if c["profile"] == "fieldkit" else c["label"]
    result = same_verdict(*verdict(lambda: verify_http(c, label)), c)
    try:
        base = signature_base(c, find_labelled(c, label)[0])
    except Bad as e:
        base = f"<none: {e}>"
    if base != c["signature_base"]:
        ours, theirs = base.split("\n"), c["signature_base"].split("\n")
        raise Bad(f"verdict agrees ({result}), but signature_base is not the base a verifier "
                  f"constructs from this request: only in ours {[x for x in ours if x not in theirs]}"
                  f", only in the vector {[x for x in theirs if x not in ours]}")
    return result

# --- RFC 8032 ---------------------------------------------------------------------------
def check_ed25519_case(c):
    sk, pk = bytes.fromhex(c["secret_key"]), bytes.fromhex(c["public_key"])
    msg, sig = bytes.fromhex(c["message"]), bytes.fromhex(c["signature"])
    key = nacl.signing.SigningKey(sk[:32])
    need(bytes(key.verify_key) == pk, "public key does not match the secret key")
    need(key.sign(msg).signature == sig, "signature differs")
    need(ed25519_ok(pk, msg, sig), "signature does not verify")
    need(not ed25519_ok(pk, msg + b"\x00", sig), "signature verifies another message")
    return "sign and verify match"

CHECKS = [("envelopes.json", check_envelope_case), ("hpke.json", check_hpke_case),
          ("chains.json", check_chain_case), ("attachments.json", check_attachment_case),
          ("http-signatures.json", check_http_case), ("ed25519.json", check_ed25519_case)]

def main():
    default = Path(__file__).resolve().parents[2] / "sync-protocol" / "test-vectors"
    vector_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    passed = failed = 0
    for file, check in CHECKS:
        try:
            cases = json.loads((vector_dir / file).read_text(encoding="utf-8"))
            need(isinstance(cases, list) and cases, "expected a non-empty array")
        except (OSError, ValueError, Bad) as e:
            print(f"FAIL {file}: cannot read: {e}")
            failed += 1
            continue
        for case in cases:
            name = f"{file.removesuffix('.json')}/{case.get('name', '?')}"
            try:
                print(f"ok   {name}: {check(case)}")
                passed += 1
            except Bad as e:
                print(f"FAIL {name}: {e}")
                failed += 1
            except Exception as e:  # a malformed vector (missing field, bad hex, ...)
                print(f"FAIL {name}: {type(e).__name__}: {e}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1

if __name__ == "__main__":
    sys.exit(main())
