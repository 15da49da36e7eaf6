#!/usr/bin/env python3
"""Independent checker for Fieldkit's sync-protocol test vectors.

Re-derives every verdict in sync-protocol/test-vectors/*.json from the protocol rules
alone -- PyNaCl (libsodium) for ed25519, pyhpke for HPKE, pyca/cryptography for the
ChaCha20-Poly1305 STREAM chunks and http-sfv for RFC 8941 structured fields --
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
from pathlib import Path

import http_sfv
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from pyhpke import AEADId, CipherSuite, KDFId, KEMId

RECORD_TYPE = "application/vnd.fieldkit.record.v1+json"
CHANGE_TYPE = "application/vnd.fieldkit.change.v2+json"
RECEIPT_TYPE = "application/vnd.fieldkit.receipt.v1+json"
HELD_TYPE = "application/vnd.fieldkit.held-records.v1+json"
HPKE_SUITE = "DHKEM-X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20-Poly1305"
HPKE_INFO = b"fieldkit/v1 case payload"
ZERO_HASH, CHUNK, TAG = "0" * 64, 65536, 16  # no predecessor; STREAM chunk and tag sizes
FK_COVERED = ["@method", "@target-uri", "content-digest", "fieldkit-protocol"]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SLUG, HEX64, DATE = r"[a-z0-9][a-z0-9-]{0,63}", r"[0-9a-f]{64}", r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
MEDIA_TOKEN, ANY = r"[A-Za-z0-9!#$&\-^_.+]{1,64}", r"(?s).*"
# Text fields of the record model (ids.rs, time.rs) and the one spelling each may have.
RECORD_TEXT = {"record_id": UUID, "kit_id": UUID, "prev_hash": HEX64, "clerk_id": SLUG,
               "form_id": SLUG, "authority_id": SLUG, "leika": r"99[0-9]{12}",
               "ars": r"[0-9]{2}|[0-9]{3}|[0-9]{5}|[0-9]{9}|[0-9]{12}",
               "kind": "application|correction|withdrawal|supplement", "visit_date": DATE,
               "device_time": DATE + r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)\.[0-9]{3}Z"}
ATTACHMENT_TEXT = {"id": UUID, "purpose": "form|attachment|report", "sha256": HEX64,
                   "ciphertext_sha256": HEX64, "media_type": MEDIA_TOKEN + "/" + MEDIA_TOKEN}


# --- helpers ----------------------------------------------------------------------------
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
        need(len({k for k, _ in kv}) == len(kv), "duplicate key in a JSON object")
        return dict(kv)
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=pairs,
                          parse_constant=lambda c: need(False, f"{c} is not JSON"),
                          parse_int=lambda s: -0.0 if s == "-0" else int(s))
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError
        raise Bad(f"payload is not UTF-8 JSON: {e}") from None

def judge(c, fn):
    """Runs a validity check and compares its verdict with the vector's `valid`."""
    try:
        fn()
        ok, why = True, ""
    except Bad as e:
        ok, why = False, str(e)
    need(ok == c["valid"], f"checker says {'valid' if ok else 'invalid: ' + why}; "
                           f"vector says valid={c['valid']} ({c['reason']})")
    return "valid" if ok else f"invalid: {why}"


# --- the record model (record.rs, ids.rs, seal.rs, time.rs) ------------------------------
def check_fields(obj, texts, ints, what, optional=()):
    """Exactly these fields (serde's deny_unknown_fields), each of the right form."""
    need(isinstance(obj, dict), f"{what}: not an object")
    need(not set(obj) - {*texts, *ints, *optional}, f"{what}: unknown fields")
    need(not {*texts, *ints} - set(obj), f"{what}: missing {sorted({*texts, *ints} - set(obj))}")
    for f, rx in texts.items():
        need(full(rx, obj[f]), f"{what}.{f} malformed")
    for f, bits in ints.items():
        need(is_uint(obj[f], bits), f"{what}.{f} is not a u{bits}")

def date_ok(text):
    y, m, d = map(int, text[:10].split("-"))
    feb = 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 1 <= m <= 12 and 1 <= d <= [31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]

def ciphertext_len(plain):
    return plain + max(1, -(-plain // CHUNK)) * TAG

def check_sealed(s):
    check_fields(s, {"suite": re.escape(HPKE_SUITE), "key_id": "[0-9a-f]{16}"}, {}, "sealed",
                 ["enc", "ct"])
    b64d(s.get("enc"), 32, "sealed.enc")
    need(len(b64d(s.get("ct"), what="sealed.ct")) >= TAG, "sealed.ct shorter than the tag")

def check_record(r):
    check_fields(r, RECORD_TEXT, {"v": 32, "seq": 64, "form_version": 32}, "record",
                 ["references", "sealed", "attachments"])
    need(r["v"] == 1 and r["form_version"] >= 1, "v must be 1, form_version at least 1")
    need(r["record_id"][14] == "7", "record_id must be a UUIDv7")
    need(1 <= r["seq"] <= 2**53 - 1, "seq must be in 1..2^53-1")
    need((r["seq"] == 1) == (r["prev_hash"] == ZERO_HASH), "prev_hash zero exactly at seq 1")
    need(date_ok(r["device_time"]) and date_ok(r["visit_date"]), "no such date")
    ref = r.get("references")
    need(ref is None or full(UUID, ref), "references must be a UUID")
    need((ref is None) == (r["kind"] == "application") and ref != r["record_id"],
         "only a correction, withdrawal or supplement references, and another record")
    check_sealed(r.get("sealed"))
    atts = r.get("attachments")
    need(isinstance(atts, list) and len(atts) <= 64, "attachments: a list of at most 64")
    for i, a in enumerate(atts):
        check_fields(a, ATTACHMENT_TEXT, {"size": 64, "ciphertext_size": 64}, "attachment")
        need(a["id"] not in [b["id"] for b in atts[:i]], "duplicate attachment id")
        need(a["media_type"] == a["media_type"].lower(), "media_type must be lower case")
        need(a["size"] <= 512 * 2**20, "attachment larger than 512 MiB")
        need(a["ciphertext_size"] == ciphertext_len(a["size"]), "ciphertext_size mismatch")

def verify_record_envelope(env, kit_id, pk):
    """Returns (record, payload bytes) or raises Bad: PROTOCOL.md section 3."""
    check_fields(env, {"payloadType": ANY, "payload": ANY}, {}, "envelope", ["signatures"])
    need(isinstance(env["signatures"], list), "envelope.signatures must be a list")
    for s in env["signatures"]:
        check_fields(s, {"keyid": ANY, "sig": ANY}, {}, "signature")
    need(len(json.dumps(env, separators=(",", ":"))) <= 2 * 2**20, "envelope larger than 2 MiB")
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
    return judge(c, lambda: verify_record_envelope(c["envelope"], c["kit_id"], pk))


# --- chains (chain.rs::verify_run, PROTOCOL.md section 4) --------------------------------
def verify_run(anchor, links):
    by_seq = {}
    for seq, prev, h in links:
        by_seq.setdefault(seq, {})[h] = prev
    findings, preds = [], [anchor["hash"] if anchor else ZERO_HASH]  # preds: what may be named
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
    pk, links = bytes.fromhex(c["public_key_hex"]), []
    for i, env in enumerate(c["envelopes"]):
        try:
            record, payload = verify_record_envelope(env, c["kit_id"], pk)
        except Bad as e:
            raise Bad(f"envelope {i} does not verify: {e}") from None
        links.append((record["seq"], record["prev_hash"], hashlib.sha256(payload).hexdigest()))
    found = verify_run(c["anchor"], links)
    need(found == c["findings"], f"findings {found} != vector {c['findings']}")
    return f"{len(found)} finding(s), as in the vector"


# --- HPKE (seal.rs, RFC 9180 base mode) --------------------------------------------------
SUITE = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.CHACHA20_POLY1305)

def check_hpke_case(c):
    h = {k: bytes.fromhex(c[k]) for k in "ikmR skRm pkRm ikmE enc info aad pt ct".split()}
    kp = SUITE.kem.derive_key_pair(h["ikmR"])
    need((kp.private_key.to_private_bytes(), kp.public_key.to_public_bytes())
         == (h["skRm"], h["pkRm"]), "DeriveKeyPair(ikmR) is not (skRm, pkRm)")
    try:
        ctx = SUITE.create_recipient_context(h["enc"], kp.private_key, h["info"])
        need(ctx.open(h["ct"], h["aad"]) == h["pt"], "opened plaintext != pt")
    except Exception as e:  # pyhpke's OpenError and friends
        raise Bad(f"open failed: {e!r}") from None
    eph = SUITE.kem.derive_key_pair(h["ikmE"])
    enc, ctx = SUITE.create_sender_context(kp.public_key, h["info"], eks=eph)
    need((enc, ctx.seal(h["pt"], h["aad"])) == (h["enc"], h["ct"]),
         "sealing with DeriveKeyPair(ikmE) does not give (enc, ct)")
    if c["source"] != "fieldkit":
        need(c["source"] == "RFC 9180 A.2.1", f"unknown source {c['source']}")
        return "derive, open and seal match"
    need(h["info"] == HPKE_INFO, "info is not the protocol's fixed info")
    need(full(UUID, c["record_id"]) and full(UUID, c["kit_id"]) and full(SLUG, c["authority_id"]),
         "record identity malformed")
    aad = f"fieldkit/v1 record:{c['record_id']}:{c['kit_id']}:{c['authority_id']}"
    need(h["aad"] == aad.encode(), "aad is not the record identity")
    check_sealed(s := c["sealed"])
    need(b64d(s["enc"]) == h["enc"] and b64d(s["ct"]) == h["ct"], "sealed enc/ct differ")
    need(s["key_id"] == hashlib.sha256(h["pkRm"]).digest()[:8].hex(), "sealed.key_id wrong")
    return "derive, open and seal match; info, aad and the sealed object as the protocol says"


# --- attachments (attachment.rs: STREAM, big-endian 32-bit counter, ChaCha20-Poly1305) ---
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
    need((hashlib.sha256(plain).hexdigest(), hashlib.sha256(ct).hexdigest())
         == (c["plaintext_sha256"], c["ciphertext_sha256"]), "a SHA-256 is wrong")
    return f"{n} bytes in {max(1, -(-n // CHUNK))} chunk(s) decrypt, re-encrypt and hash"


# --- RFC 9421 signatures (httpsig.rs, PROTOCOL.md section 7) -----------------------------
def alower(s):
    return "".join(ch.lower() if ch.isascii() else ch for ch in s)

def header_value(headers, name):
    values = [v.strip(" \t") for n, v in headers if alower(n) == name]
    need(values, f"header {name} is missing")
    return ", ".join(values)

def sf_dictionary(headers, name):
    """An RFC 8941 dictionary header, parsed by http-sfv (not by anything Fieldkit wrote)."""
    d = http_sfv.Dictionary()
    try:
        d.parse(header_value(headers, name).encode("ascii"))
    except ValueError as e:
        raise Bad(f"header {name} is not a structured-field dictionary: {e!r}") from None
    return d

def derived(c, name):
    if name in ("@method", "@target-uri"):
        return c["method"] if name == "@method" else c["target_uri"]
    m = re.fullmatch(r"([A-Za-z0-9+\-.]+)://([^/?]+)([^?]*)(?:\?(.*))?",
                     c["target_uri"].split("#")[0], re.S)
    need(m is not None, "@target-uri is not an absolute URI with an authority")
    scheme, authority, path, query = alower(m[1]), alower(m[2]), m[3] or "/", m[4]
    port = {"https": ":443", "http": ":80"}.get(scheme)
    if port and authority.endswith(port):  # the default port is not part of @authority
        authority = authority[:-len(port)]
    values = {"@scheme": scheme, "@authority": authority, "@path": path,
              "@query": "?" + (query or ""),
              "@request-target": path if query is None else f"{path}?{query}"}
    need(name in values, f"unsupported derived component {name}")
    return values[name]

def signature_base(c, inner):
    lines = []
    for item in inner:
        name = item.value
        need(type(name) is str and not item.params, "components must be plain strings")
        need(name == alower(name), "component names are lower case")
        value = derived(c, name) if name.startswith("@") else header_value(c["headers"], name)
        need("\r" not in value and "\n" not in value, "line break in a covered value")
        lines.append(f'"{name}": {value}')
    return "\n".join(lines + [f'"@signature-params": {inner}'])

def find_labelled(c, label):
    inner = sf_dictionary(c["headers"], "signature-input").get(label)
    sig = sf_dictionary(c["headers"], "signature").get(label)
    need(isinstance(inner, http_sfv.InnerList), f"no inner list labelled {label}")
    need(isinstance(sig, http_sfv.Item) and isinstance(sig.value, bytes), f"no sig {label}")
    need(len(sig.value) == 64, "an ed25519 signature is 64 bytes")
    return inner, sig.value

def verify_http(c, label):
    inner, sig = find_labelled(c, label)
    p = inner.params
    if c["profile"] == "fieldkit":
        need([i.value for i in inner if type(i.value) is str] == FK_COVERED, "wrong covered list")
        need(type(p.get("created")) is int, "integer parameter created is required")
        need(c["now"] - 300 <= p["created"] <= c["now"] + 60, "created outside the window")
        need(type(p.get("alg")) is str and p["alg"] == "ed25519", "alg must be ed25519")
        need(type(p.get("nonce")) is str and full(r"[0-9a-f]{32}", p["nonce"]), "bad nonce")
        need(type(p.get("keyid")) is str and full(UUID, p["keyid"]), "keyid must be a kit id")
        need("kit_id" not in c or p["keyid"] == c["kit_id"], "keyid is not the kit")
        digest = sf_dictionary(c["headers"], "content-digest").get("sha-256")
        need(isinstance(digest, http_sfv.Item) and isinstance(digest.value, bytes),
             "a sha-256 content digest is required")
        need(digest.value == hashlib.sha256(c["body"].encode()).digest(), "content-digest mismatch")
    base = signature_base(c, inner).encode()
    need(ed25519_ok(bytes.fromhex(c["public_key_hex"]), base, sig), "bad signature")

def check_http_case(c):
    need(c["profile"] in ("fieldkit", "rfc9421"), f"unknown profile {c['profile']}")
    label = "fk" if c["profile"] == "fieldkit" else c["label"]
    result = judge(c, lambda: verify_http(c, label))
    try:
        base = signature_base(c, find_labelled(c, label)[0])
    except Bad as e:
        base = f"<none: {e}>"
    ours, theirs = base.split("\n"), c["signature_base"].split("\n")
    need(base == c["signature_base"], f"verdict agrees ({result}), but signature_base is not the "
         f"base a verifier constructs from this request: ours has {set(ours) - set(theirs)}, "
         f"the vector {set(theirs) - set(ours)}")
    return result


# --- signed changes (change.rs, PROTOCOL.md section 6.5) ----------------------------------
TIMESTAMP = RECORD_TEXT["device_time"]
STATUSES = "received|in_review|needs_information|approved|rejected|completed"

def key_id(pk):
    return hashlib.sha256(pk).hexdigest()[:16]

def server_key(k, what):
    check_fields(k, {"key_id": "[0-9a-f]{16}", "public_key": ANY}, {}, what)
    pk = b64d(k["public_key"], 32, f"{what}.public_key")
    need(key_id(pk) == k["key_id"], f"{what}: key_id is not derived from the key")
    return pk

def check_change_kind(ch, signer):
    """Returns the key a verified server_key rollover adds, else None."""
    need(isinstance(ch, dict) and isinstance(ch.get("type"), str), "change: no type")
    kind = ch["type"]
    if kind == "status":
        check_fields(ch, {"type": ANY, "record_id": UUID, "status": STATUSES}, {}, "status",
                     ["comment"])
        need("comment" in ch and (ch["comment"] is None or isinstance(ch["comment"], str)),
             "status.comment must be a string or null")
    elif kind == "catalog":
        check_fields(ch, {"type": ANY, "version": ANY}, {}, "catalog")
    elif kind == "wipe":
        check_fields(ch, {"type": ANY, "reason": ANY}, {}, "wipe")
    elif kind == "server_key":
        check_fields(ch, {"type": ANY, "replaces": "[0-9a-f]{16}", "overlap_until": TIMESTAMP},
                     {}, "server_key", ["key"])
        need(ch["replaces"] == signer, "a rollover must be signed by the key it replaces")
        return server_key(ch["key"], "server_key.key")
    elif kind == "tls_pin":
        check_fields(ch, {"type": ANY, "overlap_until": TIMESTAMP}, {}, "tls_pin", ["pin"])
        check_fields(ch["pin"], {"spki_sha256": HEX64, "cert_sha256": HEX64}, {}, "tls_pin.pin")
    else:
        raise Bad(f"unknown change type {kind!r}")
    return None

def verify_change(env, kit_id, last_cursor, trusted):
    """Verifies one signed change (signature first, then the statement); returns its cursor."""
    check_fields(env, {"payloadType": ANY, "payload": ANY}, {}, "envelope", ["signatures"])
    need(isinstance(env["signatures"], list), "envelope.signatures must be a list")
    for s in env["signatures"]:
        check_fields(s, {"keyid": ANY, "sig": ANY}, {}, "signature")
    need(len(env["signatures"]) == 1, "exactly one signature required")
    keyid = env["signatures"][0]["keyid"]
    need(keyid in trusted, "no trusted key has the key id")
    need(env["payloadType"] == CHANGE_TYPE, "payloadType is not the change type")
    sig = b64d(env["signatures"][0]["sig"], 64, "sig")
    payload = b64d(env["payload"], what="payload")
    ptype = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    need(ed25519_ok(trusted[keyid], pae, sig), "signature does not verify")
    st = strict_json(payload)
    check_fields(st, {"kit_id": UUID, "at": TIMESTAMP}, {"v": 32, "cursor": 64}, "statement",
                 ["change"])
    need(st["v"] == 2, "v is not 2")
    need(st["kit_id"] == kit_id, "kit_id is another kit")
    need(last_cursor < st["cursor"] <= 2**53 - 1, "cursor does not follow the previous entry")
    new_key = check_change_kind(st["change"], keyid)
    if new_key is not None:
        trusted[key_id(new_key)] = new_key
    return st["cursor"]

def check_changes_case(c):
    trusted = {k["key_id"]: server_key(k, "trusted") for k in c["trusted"]}
    last, accepted, why = c["after"], 0, ""
    for env in c["changes"]:
        try:
            last = verify_change(env, c["kit_id"], last, trusted)
            accepted += 1
        except Bad as e:
            why = str(e)
            break
    need(accepted == c["accepted"], f"checker accepts {accepted} ({why}); vector says "
                                    f"{c['accepted']} ({c['reason']})")
    return f"{accepted} accepted" + (f", then refused: {why}" if why else "")


# --- held-records files (PROTOCOL.md §11) ------------------------------------------------
def dsse_open(env, ptype, key_for):
    """One-signature DSSE envelope of type `ptype`; `key_for(keyid)` names the key or fails."""
    check_fields(env, {"payloadType": ANY, "payload": ANY}, {}, "envelope", ["signatures"])
    need(isinstance(env["signatures"], list) and len(env["signatures"]) == 1,
         "exactly one signature required")
    check_fields(env["signatures"][0], {"keyid": ANY, "sig": ANY}, {}, "signature")
    need(env["payloadType"] == ptype, f"payloadType is not {ptype}")
    pk = key_for(env["signatures"][0]["keyid"])
    sig = b64d(env["signatures"][0]["sig"], 64, "sig")
    payload = b64d(env["payload"], what="payload")
    t = ptype.encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)
    need(ed25519_ok(pk, pae, sig), "signature does not verify")
    return payload

def receipt_taken(env, entry, kit_id, servers):
    """§11.2 step 5: a receipt counts only if a server key signed it for this entry."""
    try:
        r = strict_json(dsse_open(env, RECEIPT_TYPE, lambda k: servers.get(k) or need(
            False, "no server key has the key id")))
        check_fields(r, {"record_id": UUID, "record_hash": HEX64, "kit_id": UUID,
                         "received_at": TIMESTAMP}, {"v": 32, "seq": 64, "log_position": 64},
                     "receipt")
        return (r["v"] == 1 and r["kit_id"] == kit_id and r["seq"] == entry["seq"]
                and r["record_id"] == entry["record_id"] and r["record_hash"] == entry["hash"])
    except Bad:
        return False

def check_held_case(c):
    kit_pk = bytes.fromhex(c["kit_public_key_hex"])
    servers = {k["key_id"]: server_key(k, "server key") for k in c["server_keys"]}
    taken = []

    def verify():
        taken.clear()
        f = c["file"]
        check_fields(f, {"format": "fieldkit-held-records"}, {}, "file", ["statement", "records"])
        need(isinstance(f["records"], list), "records must be a list")
        st = strict_json(dsse_open(f["statement"], HELD_TYPE, lambda k: kit_pk if k == c[
            "kit_id"] else need(False, "the statement's key id is not the kit")))
        check_fields(st, {"kit_id": UUID, "created_at": TIMESTAMP, "blocked": ANY},
                     {"v": 32}, "statement", ["entries"])
        need(st["v"] == 1, "v is not 1")
        need(st["kit_id"] == c["kit_id"], "kit_id is not the kit whose key signed")
        entries = st["entries"]
        need(isinstance(entries, list) and 1 <= len(entries) <= 5000, "1 to 5000 entries")
        for i, e in enumerate(entries):
            check_fields(e, {"record_id": UUID, "hash": HEX64,
                             "state": "pending|delivered|complete|rejected|purged"},
                         {"seq": 64}, "entry", ["problem"])
            need("problem" in e and (e["problem"] is None or isinstance(e["problem"], str)),
                 "entry.problem must be a string or null")
            need(1 <= e["seq"] <= 2**53 - 1, "seq out of range")
            need(i == 0 or e["seq"] == entries[i - 1]["seq"] + 1,
                 "seqs must ascend without holes")
        need(len(f["records"]) == len(entries), "records do not match the entries")
        for e, r in zip(entries, f["records"]):
            check_fields(r, {}, {"seq": 64}, "record", ["envelope", "receipt"])
            need({"envelope", "receipt"} <= set(r), "record: missing envelope or receipt")
            need(r["seq"] == e["seq"], "records do not match the entries")
            if r["envelope"] is not None:
                env = r["envelope"]
                check_fields(env, {"payloadType": ANY, "payload": ANY}, {}, "envelope",
                             ["signatures"])
                payload = b64d(env["payload"], what="envelope.payload")
                need(hashlib.sha256(payload).hexdigest() == e["hash"],
                     "an envelope's payload does not hash to its entry's hash")
            if r["receipt"] is not None and receipt_taken(r["receipt"], e, c["kit_id"],
                                                          servers):
                taken.append(e["seq"])

    verdict = judge(c, verify)
    if c["valid"]:
        need(taken == c["receipts_taken"],
             f"receipts taken {taken}; vector says {c['receipts_taken']}")
    return verdict + (f", receipts taken {taken}" if c["valid"] else "")


# --- RFC 8032, then the driver -----------------------------------------------------------
def check_ed25519_case(c):
    sk, pk = bytes.fromhex(c["secret_key"]), bytes.fromhex(c["public_key"])
    msg, sig = bytes.fromhex(c["message"]), bytes.fromhex(c["signature"])
    key = nacl.signing.SigningKey(sk[:32])
    need(bytes(key.verify_key) == pk, "public key does not match the secret key")
    need(key.sign(msg).signature == sig, "signature differs")
    need(ed25519_ok(pk, msg, sig), "signature does not verify")
    need(not ed25519_ok(pk, msg + b"\x00", sig), "signature verifies another message")
    return "sign and verify match"

CHECKS = {"envelopes": check_envelope_case, "hpke": check_hpke_case, "chains": check_chain_case,
          "attachments": check_attachment_case, "http-signatures": check_http_case,
          "ed25519": check_ed25519_case, "changes": check_changes_case,
          "held-records": check_held_case}

def main():
    default = Path(__file__).resolve().parents[2] / "sync-protocol" / "test-vectors"
    vector_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    passed = failed = 0
    for file, check in CHECKS.items():
        try:
            cases = json.loads((vector_dir / f"{file}.json").read_text(encoding="utf-8"))
            need(isinstance(cases, list) and cases, "expected a non-empty array")
        except (OSError, ValueError, Bad) as e:
            print(f"FAIL {file}.json: cannot read it: {e}")
            failed += 1
            continue
        for case in cases:
            try:
                print(f"ok   {file}/{case['name']}: {check(case)}")
                passed += 1
            except Exception as e:  # Bad, or a malformed vector (missing field, bad hex, ...)
                print(f"FAIL {file}/{case.get('name')}: {e if isinstance(e, Bad) else repr(e)}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
