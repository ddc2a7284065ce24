"""Tests of rotor_plugin (the Python SDK) and of the example plugins against their stand-ins.

    cd sdk/python && python3 -m unittest -v test_rotor_plugin

Standard library only. Every plugin call runs the way rotor runs it: a new
process with a clean environment, one JSON request line on stdin, one reply
line read from stdout. Every request and reply is also checked against
docs/plugin-protocol.schema.json.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PLUGINS = os.path.join(ROOT, "examples", "plugins")
STANDIN = os.path.join(PLUGINS, "standin.py")
SCHEMA_PATH = os.path.join(ROOT, "docs", "plugin-protocol.schema.json")
DOC_PATH = os.path.join(ROOT, "docs", "plugin-protocol.md")

sys.path.insert(0, HERE)
import rotor_plugin  # noqa: E402
from rotor_plugin import Credential, Plugin, Transient, handle, http, redact  # noqa: E402

with open(SCHEMA_PATH) as _f:
    SCHEMA = json.load(_f)

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ------------------------------------------------------ a small JSON Schema check
# Enough of draft 2020-12 for plugin-protocol.schema.json; an unknown keyword is
# an error, so the schema cannot silently use something this does not check.

ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
KEYWORDS = ANNOTATIONS | {"$ref", "type", "const", "enum", "required", "properties",
                          "additionalProperties", "allOf", "anyOf", "oneOf", "not", "if", "then",
                          "else", "pattern", "minimum", "minLength", "items"}


def _is_type(value, name):
    return {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    }[name](value)


def _same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def resolve(ref):
    if not ref.startswith("#"):
        raise ValueError("only local $refs: %s" % ref)
    node = SCHEMA
    for part in [p for p in ref[1:].split("/") if p]:
        node = node[part]
    return node


def schema_errors(inst, schema, where="$"):
    if schema is True:
        return []
    if schema is False:
        return ["%s: nothing is allowed here" % where]
    unknown = set(schema) - KEYWORDS
    if unknown:
        raise ValueError("the test's validator does not know %s" % sorted(unknown))
    errs = []
    if "$ref" in schema:
        errs += schema_errors(inst, resolve(schema["$ref"]), where)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(inst, n) for n in names):
            errs.append("%s: not of type %s" % (where, schema["type"]))
            return errs
    if "const" in schema and not _same(inst, schema["const"]):
        errs.append("%s: not %s" % (where, json.dumps(schema["const"])))
    if "enum" in schema and not any(_same(inst, e) for e in schema["enum"]):
        errs.append("%s: not one of %s" % (where, json.dumps(schema["enum"])))
    if isinstance(inst, str):
        if "pattern" in schema and not re.search(schema["pattern"], inst):
            errs.append("%s: does not match %s" % (where, schema["pattern"]))
        if "minLength" in schema and len(inst) < schema["minLength"]:
            errs.append("%s: shorter than %d" % (where, schema["minLength"]))
    if _is_type(inst, "number") and "minimum" in schema and inst < schema["minimum"]:
        errs.append("%s: below %s" % (where, schema["minimum"]))
    if isinstance(inst, list) and "items" in schema:
        for i, item in enumerate(inst):
            errs += schema_errors(item, schema["items"], "%s[%d]" % (where, i))
    if isinstance(inst, dict):
        for key in schema.get("required", []):
            if key not in inst:
                errs.append("%s: lacks %s" % (where, key))
        props = schema.get("properties", {})
        for key, val in inst.items():
            if key in props:
                errs += schema_errors(val, props[key], "%s.%s" % (where, key))
            elif "additionalProperties" in schema:
                errs += schema_errors(val, schema["additionalProperties"], "%s.%s" % (where, key))
    for sub in schema.get("allOf", []):
        errs += schema_errors(inst, sub, where)
    if "anyOf" in schema and not any(not schema_errors(inst, s, where) for s in schema["anyOf"]):
        errs.append("%s: matches none of anyOf" % where)
    if "oneOf" in schema and sum(1 for s in schema["oneOf"] if not schema_errors(inst, s, where)) != 1:
        errs.append("%s: does not match exactly one of oneOf" % where)
    if "not" in schema and not schema_errors(inst, schema["not"], where):
        errs.append("%s: matches what `not` forbids" % where)
    if "if" in schema:
        branch = "then" if not schema_errors(inst, schema["if"], where) else "else"
        if branch in schema:
            errs += schema_errors(inst, schema[branch], where)
    return errs


def valid(inst, ref):
    return not schema_errors(inst, {"$ref": ref})


# ---------------------------------------------------------------- plugin runs

def clean_env(extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
           "LANG": "C.UTF-8", "TZ": "UTC", "ROTOR_PLUGIN_PROTOCOL": "1"}
    env.update(extra or {})
    return env


class Run:
    def __init__(self, proc, stdin_obj):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.request = stdin_obj
        self.reply = json.loads(proc.stdout) if proc.stdout.strip() else None


def run_plugin(argv, request, env, raw=None, timeout=30):
    """Run a plugin once as rotor does: one line in, one line out."""
    line = raw if raw is not None else json.dumps(request) + "\n"
    proc = subprocess.run(argv, input=line.encode("utf-8"), capture_output=True, env=env,
                          timeout=timeout, cwd=ROOT)
    proc.stdout = proc.stdout.decode("utf-8")
    proc.stderr = proc.stderr.decode("utf-8", "replace")
    return Run(proc, request)


def leak_forms(value):
    raw = value.encode("utf-8")
    forms = {value, json.dumps(value)[1:-1], urllib.parse.quote(value, safe=""), raw.hex()}
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    return [f for f in forms if f]


def sha(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def cred(version, user=None, value=None):
    return {"version": version, "user": user, "value": value}


class PluginCase(unittest.TestCase):
    """Runs plugins, checks every exchange against the schema and for echoed secrets."""

    argv = None
    secret_name = "s"

    def setUp(self):
        self.secrets = []   # every value that must never show outside `value`
        self.stderrs = []
        self.env = clean_env()
        self.config = {}

    def remember(self, *values):
        for v in values:
            if v and v not in self.secrets:
                self.secrets.append(v)

    def request(self, op, new=None, old=None, config=None):
        req = {"protocol": 1, "op": op, "secret": self.secret_name,
               "config": self.config if config is None else config}
        if new is not None:
            req["new"] = new
        if old is not None:
            req["old"] = old
        return req

    def call(self, op, new=None, old=None, config=None, env=None, argv=None, expect_ok=True):
        req = self.request(op, new, old, config)
        self.assertEqual(schema_errors(req, {"$ref": "#/$defs/request"}), [], "the test sent a bad request")
        run = run_plugin(argv or self.argv, req, self.env if env is None else env)
        self.check_run(run)
        if expect_ok is True:
            self.assertTrue(run.reply["ok"], "%s failed: %s" % (op, run.reply))
            self.assertEqual(schema_errors(run.reply, {"$ref": "#/$defs/reply_ok_" + op}), [])
        elif expect_ok is False:
            self.assertFalse(run.reply["ok"], "%s should have failed" % op)
        if run.reply.get("ok") and op == "create":
            self.remember(run.reply.get("value"))
        return run.reply

    def check_run(self, run):
        self.assertEqual(run.rc, 0, run.stderr)
        self.assertTrue(run.stdout.endswith("\n"), repr(run.stdout))
        self.assertEqual(run.stdout.count("\n"), 1, "more than one line on stdout: %r" % run.stdout)
        self.assertIsInstance(run.reply, dict)
        self.assertEqual(schema_errors(run.reply, {"$ref": "#/$defs/reply"}), [])
        self.stderrs.append(run.stderr)
        self.assert_no_echo(run)

    def assert_no_echo(self, run):
        values = list(self.secrets)
        for cred_name in ("new", "old"):
            c = (run.request or {}).get(cred_name) or {}
            if c.get("value"):
                values.append(c["value"])
        if run.reply and run.reply.get("ok") and run.reply.get("value"):
            values.append(run.reply["value"])
        shown = dict(run.reply or {})
        shown.pop("value", None)
        shown_text = json.dumps(shown)
        for value in values:
            for form in leak_forms(value):
                self.assertNotIn(form, run.stderr, "a secret value reached stderr")
                self.assertNotIn(form, shown_text, "a secret value reached a reply field other than value")

    def tearDown(self):
        # values minted later must not have reached an earlier stderr either
        for text in self.stderrs:
            for value in self.secrets:
                for form in leak_forms(value):
                    self.assertNotIn(form, text, "a secret value reached stderr")


# ------------------------------------------------------------------ SDK tests

TOY = r'''
import base64, os, sys, urllib.parse
sys.path.insert(0, %(sdk)r)
from rotor_plugin import Plugin, serve, Transient, Permanent, Unchanged

class Toy(Plugin):
    def describe(self, req):
        if req.config.get("mode") == "incomplete":
            return {"provider": "toy"}
        return {"provider": "toy", "overlap": "dual", "max_live": 2, "mints": False, "fields": ["value"]}

    def create(self, req):
        mode = req.config.get("mode")
        v = req.new.value
        o = req.old.value if req.old else ""
        if mode == "boom":
            raise ValueError("bad %%s and %%s (%%s %%s %%s)" %% (v, o, urllib.parse.quote(v, safe=""),
                             base64.b64encode(v.encode()).decode(), v.encode().hex()))
        if mode == "keyerror":
            return {}["missing " + v]
        if mode == "transient":
            raise Transient("try later")
        if mode == "unchanged":
            raise Unchanged("nothing done")
        if mode == "permanent":
            raise Permanent("refused " + o)
        if mode == "print":
            print("stray", v, req.new)
            sys.stderr.write("log " + o + "\n")
            return {}
        if mode == "notdict":
            return ["x"]
        if mode == "none":
            return None
        if mode == "exit":
            raise SystemExit(3)
        return {"user": "u1", "protocol": 7, "extra": [1, 2]}

    def test(self, req):
        if req.config.get("mode") == "bad":
            return {"accepted": "yes"}
        return {"accepted": True}

serve(Toy())
'''


class SDKProtocol(PluginCase):
    secret_name = "toy"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rotor-sdk-test-")
        path = os.path.join(cls.tmp, "toy.py")
        with open(path, "w") as f:
            f.write(TOY % {"sdk": HERE})
        cls.argv = [sys.executable, path]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.new_value = 'n3w pa/ss+w"rd=' + secrets.token_hex(8)
        self.old_value = "0ld-" + secrets.token_urlsafe(12)
        self.remember(self.new_value, self.old_value)
        self.new = cred("toy/2", None, self.new_value)
        self.old = cred("toy/1", "u0", self.old_value)

    def raw(self, line):
        run = run_plugin(self.argv, None, self.env, raw=line)
        self.check_run(run)
        return run.reply

    def error_of(self, reply, kind):
        self.assertEqual(reply["protocol"], 1)
        self.assertIs(reply["ok"], False)
        self.assertEqual(reply["error"]["kind"], kind)
        return reply["error"]["message"]

    def test_wrong_version(self):
        req = {"protocol": 2, "op": "describe", "secret": "toy", "config": {}}
        reply = self.raw(json.dumps(req) + "\n")
        self.assertEqual(reply, {"protocol": 1, "ok": False, "error": {
            "kind": "permanent", "message": "this plugin speaks protocol 1, rotor asked for 2"}})

    def test_missing_or_odd_version(self):
        for given, shown in ((None, "none"), (True, "true"), ("1", '"1"'), (1.5, "1.5")):
            req = {"op": "describe", "secret": "toy", "config": {}}
            if given is not None:
                req["protocol"] = given
            message = self.error_of(self.raw(json.dumps(req) + "\n"), "permanent")
            self.assertEqual(message, "this plugin speaks protocol 1, rotor asked for %s" % shown)

    def test_wrong_version_redacts_values(self):
        req = {"protocol": 3, "op": "create", "secret": "toy", "config": {}, "new": self.new}
        message = self.error_of(self.raw(json.dumps(req) + "\n"), "permanent")
        self.assertIn("asked for 3", message)

    def test_unknown_op(self):
        req = {"protocol": 1, "op": "rotate", "secret": "toy", "config": {}, "new": self.new}
        message = self.error_of(self.raw(json.dumps(req) + "\n"), "permanent")
        self.assertIn('unknown op "rotate"', message)
        self.assertIn("describe, create, test, finish, revoke, undo", message)

    def test_not_json_not_object_no_new(self):
        self.assertIn("not JSON", self.error_of(self.raw("{nope\n"), "permanent"))
        self.assertIn("not JSON", self.error_of(self.raw(""), "permanent"))
        self.assertIn("not a JSON object", self.error_of(self.raw("[1]\n"), "permanent"))
        req = {"protocol": 1, "op": "create", "secret": "toy", "config": {}}
        self.assertIn("needs new", self.error_of(self.raw(json.dumps(req) + "\n"), "permanent"))
        req = {"protocol": 1, "op": "create", "secret": "toy", "config": {}, "new": {"version": 4}}
        self.assertIn("new.version", self.error_of(self.raw(json.dumps(req) + "\n"), "permanent"))

    def test_describe_and_extra_fields(self):
        reply = self.call("describe")
        self.assertEqual(reply["provider"], "toy")
        reply = self.call("create", self.new, self.old, config={"mode": "ok"})
        self.assertEqual(reply["protocol"], 1, "a plugin cannot override protocol")
        self.assertEqual(reply["user"], "u1")
        self.assertEqual(reply["extra"], [1, 2])

    def test_exception_is_redacted(self):
        for mode in ("boom", "keyerror"):
            reply = self.call("create", self.new, self.old, config={"mode": mode}, expect_ok=False)
            message = self.error_of(reply, "permanent")
            self.assertIn("[redacted]", message)
            self.assertTrue(message.startswith("ValueError: bad [redacted] and [redacted]" if mode == "boom"
                                               else "KeyError: "), message)
            err = self.stderrs[-1]
            self.assertEqual(err.count("\n"), 1, "one line on stderr: %r" % err)
            self.assertIn("create failed", err)
            self.assertNotIn("Traceback", err)
            # assert_no_echo (in call) checked raw, percent, JSON, base64 and hex forms

    def test_error_kinds(self):
        for mode, kind in (("transient", "transient"), ("unchanged", "unchanged"), ("permanent", "permanent")):
            reply = self.call("create", self.new, self.old, config={"mode": mode}, expect_ok=False)
            message = self.error_of(reply, kind)
            if mode == "permanent":
                self.assertEqual(message, "refused [redacted]")

    def test_stray_output_goes_to_stderr_redacted(self):
        reply = self.call("create", self.new, self.old, config={"mode": "print"})
        self.assertEqual(reply, {"protocol": 1, "ok": True})
        err = self.stderrs[-1]
        self.assertIn("stray [redacted]", err)
        self.assertIn("value=[redacted]", err, "Credential's repr hides the value")
        self.assertIn("log [redacted]", err)

    def test_plugin_bugs(self):
        message = self.error_of(self.call("test", self.new, config={"mode": "bad"}, expect_ok=False),
                                "permanent")
        self.assertIn("accepted", message)
        message = self.error_of(self.call("create", self.new, config={"mode": "notdict"}, expect_ok=False),
                                "permanent")
        self.assertIn("not a dict", message)
        message = self.error_of(self.call("describe", config={"mode": "incomplete"}, expect_ok=False),
                                "permanent")
        self.assertIn("lacks", message)
        self.assertEqual(self.call("create", self.new, config={"mode": "none"}), {"protocol": 1, "ok": True})

    def test_version_null_is_accepted(self):
        reply = self.call("create", self.new, cred(None, None, self.old_value), config={"mode": "permanent"},
                          expect_ok=False)
        self.assertEqual(reply["error"]["message"], "refused [redacted]", "the request was parsed")
        self.assertTrue(self.call("test", cred(None, None, self.new_value))["accepted"])

    def test_defaults(self):
        self.assertEqual(self.call("finish", self.new, self.old), {"protocol": 1, "ok": True})
        for op in ("revoke", "undo"):
            message = self.error_of(self.call(op, self.new, self.old, expect_ok=False), "permanent")
            self.assertIn("not supported", message)

    def test_in_process_handle(self):
        class Bare(Plugin):
            pass
        out, err = sys.stdout, sys.stderr
        line = json.dumps({"protocol": 1, "op": "describe", "secret": "x", "config": {}})
        reply = handle(Bare(), line)
        self.assertEqual(reply["error"]["kind"], "permanent")
        self.assertIn("not supported", reply["error"]["message"])
        line = json.dumps({"protocol": 1, "op": "finish", "secret": "x", "config": {}, "new": cred("x/2")})
        self.assertEqual(handle(Bare(), line), {"protocol": 1, "ok": True})
        self.assertIs(sys.stdout, out, "stdout is restored after a call")
        self.assertIs(sys.stderr, err)

    def test_redact_forms(self):
        v = 'ab/c+d e"f' + secrets.token_hex(4)
        rotor_plugin.keep_secret(v)
        raw = v.encode()
        text = " | ".join([v, urllib.parse.quote(v, safe=""), json.dumps(v), base64.b64encode(raw).decode(),
                           base64.urlsafe_b64encode(raw).decode().rstrip("="), raw.hex(), raw.hex().upper()])
        out = redact(text)
        for form in leak_forms(v):
            self.assertNotIn(form, out)
        self.assertEqual(repr(Credential("a/1", "u", v)), "Credential(version='a/1', user='u', value=[redacted])")


class _Canned(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        code = int(self.path.strip("/").split("/")[0] or 200)
        body = b'{"n": 1}' if "json" in self.path else b"plain text"
        self.send_response(code)
        if code in (301, 302):
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET


class SDKHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.saved = {k: os.environ.pop(k) for k in list(os.environ) if k.lower().endswith("_proxy")}

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        os.environ.update(cls.saved)

    def test_statuses(self):
        self.assertEqual(http("GET", self.base + "/200/json"), (200, {"n": 1}))
        self.assertEqual(http("POST", self.base + "/201/json", json_body={"a": 1}), (201, {"n": 1}))
        self.assertEqual(http("GET", self.base + "/200/text"), (200, None))
        self.assertEqual(http("GET", self.base + "/404/json"), (404, {"n": 1}))
        self.assertEqual(http("GET", self.base + "/401/text"), (401, None))
        self.assertEqual(http("GET", self.base + "/302/json")[0], 302, "redirects are not followed")

    def test_transient(self):
        for path in ("/500/json", "/503/text", "/429/json"):
            with self.assertRaises(Transient) as ctx:
                http("GET", self.base + path + "?token=abc")
            self.assertNotIn("token=abc", ctx.exception.message, "the query string is not shown")
        sock_port = _free_port()
        with self.assertRaises(Transient):
            http("GET", "http://127.0.0.1:%d/" % sock_port, timeout=2)

    def test_authorization_is_kept_secret(self):
        token = "tok-" + secrets.token_hex(8)
        http("GET", self.base + "/200/json", {"Authorization": "Bearer " + token})
        self.assertEqual(redact("x %s y" % token), "x [redacted] y")
        auth = rotor_plugin.basic_auth("AC1", "pw-" + secrets.token_hex(8))
        http("GET", self.base + "/200/json", {"Authorization": auth})
        self.assertEqual(redact(auth), "[redacted]")


def _free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SchemaDoc(unittest.TestCase):
    def test_refs_resolve_and_keywords_known(self):
        def walk(node):
            if isinstance(node, bool):
                return
            self.assertIsInstance(node, dict)
            self.assertEqual(set(node) - KEYWORDS, set())
            if "$ref" in node:
                resolve(node["$ref"])
            for key in ("properties", "$defs"):
                for sub in node.get(key, {}).values():
                    walk(sub)
            for key in ("allOf", "anyOf", "oneOf"):
                for sub in node.get(key, []):
                    walk(sub)
            for key in ("not", "if", "then", "else", "items", "additionalProperties"):
                if key in node:
                    walk(node[key])
        walk(SCHEMA)
        self.assertEqual(SCHEMA["$schema"], "https://json-schema.org/draft/2020-12/schema")
        for name in ("credential", "request", "reply_ok_describe", "reply_ok_create", "reply_ok_test",
                     "reply_ok_finish", "reply_ok_revoke", "reply_ok_undo", "reply_error"):
            self.assertIn(name, SCHEMA["$defs"])

    def test_doc_examples_validate(self):
        with open(DOC_PATH) as f:
            doc = f.read()
        blocks = re.findall(r"```json\n(.*?)```", doc, re.S)
        self.assertEqual(len(blocks), 2)
        request = json.loads(blocks[0])
        self.assertTrue(valid(request, "#/$defs/request"), schema_errors(request, {"$ref": "#/$defs/request"}))
        ok, err = [json.loads(line) for line in blocks[1].strip().splitlines()]
        self.assertTrue(valid(ok, "#/$defs/reply_ok_create"))
        self.assertTrue(valid(err, "#/$defs/reply_error"))
        for op in ("describe", "create", "test", "finish", "revoke", "undo"):
            self.assertIn("`%s`" % op, doc)
        self.assertEqual(set(resolve("#/$defs/op")["enum"]),
                         {"describe", "create", "test", "finish", "revoke", "undo"})
        for overlap in resolve("#/$defs/reply_ok_describe")["properties"]["overlap"]["enum"]:
            self.assertIn("`%s`" % overlap, doc)
        for kind in resolve("#/$defs/reply_error")["properties"]["error"]["properties"]["kind"]["enum"]:
            self.assertIn("`%s`" % kind, doc)

    def test_schema_rejects(self):
        c = cred("s/2")
        base = {"protocol": 1, "op": "create", "secret": "s", "config": {}, "new": c}
        self.assertTrue(valid(base, "#/$defs/request"))
        self.assertTrue(valid(dict(base, old=cred(None, "u", "v")), "#/$defs/request"), "adopted old: version null")
        for bad in (dict(base, protocol=2), dict(base, op="rotate"), {k: v for k, v in base.items() if k != "new"},
                    dict(base, op="describe"), dict(base, new={"version": "s/2"}), dict(base, new=cred("s2")),
                    dict(base, extra=1), dict(base, protocol=True)):
            self.assertFalse(valid(bad, "#/$defs/request"), bad)
        self.assertTrue(valid({"protocol": 1, "op": "describe", "secret": "s", "config": {}}, "#/$defs/request"))
        d = {"protocol": 1, "ok": True, "provider": "p", "overlap": "dual", "max_live": 2, "mints": True,
             "fields": ["user", "value"]}
        self.assertTrue(valid(d, "#/$defs/reply_ok_describe"))
        for bad in (dict(d, overlap="fixed-grace"), dict(d, fields=["value", "user"]), dict(d, max_live=0),
                    dict(d, mints=1), dict(d, protocol=2), {k: v for k, v in d.items() if k != "provider"}):
            self.assertFalse(valid(bad, "#/$defs/reply_ok_describe"), bad)
        self.assertTrue(valid(dict(d, overlap="fixed-grace", grace_seconds=60), "#/$defs/reply_ok_describe"))
        self.assertFalse(valid({"protocol": 1, "ok": True, "accepted": "yes"}, "#/$defs/reply_ok_test"))
        self.assertFalse(valid({"protocol": 1, "ok": True}, "#/$defs/reply_ok_test"))
        e = {"protocol": 1, "ok": False, "error": {"kind": "transient", "message": "m"}}
        self.assertTrue(valid(e, "#/$defs/reply"))
        self.assertTrue(valid(dict(e, protocol=2), "#/$defs/reply_error"), "a plugin answers the version it speaks")
        self.assertFalse(valid(dict(e, error={"kind": "fatal", "message": "m"}), "#/$defs/reply"))
        self.assertFalse(valid({"protocol": 1, "ok": False}, "#/$defs/reply"))
        self.assertFalse(valid({"protocol": 1, "ok": "yes"}, "#/$defs/reply"))


# ------------------------------------------------------ providers, end to end

class Standin:
    def __init__(self, provider, admin_key, seed_key, seed_user=None, account_sid=None):
        self.tmp = tempfile.mkdtemp(prefix="rotor-standin-")
        port_file = os.path.join(self.tmp, "port")
        # --opt=value: a random value may begin with "-"
        argv = [sys.executable, STANDIN, "--provider=" + provider, "--port-file=" + port_file,
                "--admin-key=" + admin_key, "--seed-key=" + seed_key]
        if seed_user:
            argv.append("--seed-user=" + seed_user)
        if account_sid:
            argv.append("--account-sid=" + account_sid)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=clean_env())
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("standin exited: %s" % self.proc.stderr.read().decode())
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("standin did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port

    def state(self):
        with DIRECT.open(self.url + "/_standin/state", timeout=10) as resp:
            return json.loads(resp.read())

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=dict(headers or {}))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with DIRECT.open(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        out, err = self.proc.communicate()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return out.decode() + err.decode()


class ProviderCase(PluginCase):
    provider = None
    admin_env = None

    def setUp(self):
        super().setUp()
        self.argv = [sys.executable, os.path.join(PLUGINS, self.provider + ".py")]
        self.admin_key = "adm-" + secrets.token_urlsafe(18)
        self.remember(self.admin_key)
        if self.admin_env:
            self.env = clean_env({self.admin_env: self.admin_key})
        self.seed = self.seed_value()
        self.remember(self.seed)
        self.standin = self.start_standin()

    def start_standin(self):
        return Standin(self.provider, self.admin_key, self.seed)

    def tearDown(self):
        output = self.standin.stop()
        for value in self.secrets:
            self.assertNotIn(value, output, "the stand-in logged a value")
        super().tearDown()

    def creds(self, **match):
        return [c for c in self.standin.state()["credentials"]
                if all(c.get(k) == v for k, v in match.items())]

    def status_of(self, value):
        found = [c["status"] for c in self.standin.state()["credentials"] if c["sha256"] == sha(value)]
        self.assertEqual(len(found), 1, "exactly one credential has that value")
        return found[0]

    def assert_executable(self):
        path = os.path.join(PLUGINS, self.provider + ".py")
        self.assertTrue(os.access(path, os.X_OK), "%s is executable" % path)
        with open(path) as f:
            self.assertEqual(f.readline(), "#!/usr/bin/env python3\n")


class StripeEndToEnd(ProviderCase):
    provider = "stripe"
    admin_env = "STRIPE_ADMIN_KEY"
    secret_name = "stripe_secret_key"

    def seed_value(self):
        return "rk_live_" + secrets.token_urlsafe(24)

    def setUp(self):
        super().setUp()
        self.config = {"base_url": self.standin.url, "admin_key_env": "STRIPE_ADMIN_KEY", "grace_seconds": 3600}
        self.old = cred(None, None, self.seed)   # adopted: no version

    def live(self, label):
        return [c for c in self.creds(label=label) if c["status"] in ("live", "expiring")]

    def test_rotation(self):
        self.assert_executable()
        d = self.call("describe")
        self.assertEqual({k: d[k] for k in ("provider", "overlap", "grace_seconds", "max_live", "mints", "fields")},
                         {"provider": "stripe", "overlap": "fixed-grace", "grace_seconds": 3600, "max_live": 10,
                          "mints": True, "fields": ["user", "value"]})
        new = cred("stripe_secret_key/2")
        r = self.call("create", new, self.old)
        self.assertTrue(r["value"].startswith("rk_live_"))
        self.assertEqual(r["user"], "rk_2")
        new = cred(new["version"], r["user"], r["value"])
        self.assertEqual(self.status_of(r["value"]), "live")
        self.assertEqual(self.status_of(self.seed), "expiring", "old keeps its grace, not revoked yet")
        self.assertTrue(self.call("test", new, self.old)["accepted"])
        self.assertTrue(self.call("test", cred("x/1", None, self.seed))["accepted"], "old works in its grace")
        self.assertFalse(self.call("test", cred("x/1", None, "rk_live_nope"))["accepted"])
        self.call("finish", new, self.old)
        self.assertEqual(self.status_of(self.seed), "expiring", "finish does not revoke")
        self.call("revoke", new, self.old)
        self.assertEqual(self.status_of(self.seed), "expired")
        self.assertEqual(self.status_of(r["value"]), "live")
        self.call("revoke", new, self.old)   # already gone: succeeds
        self.call("revoke", new, cred("stripe_secret_key/1", "rk_1", self.seed))
        self.assertFalse(self.call("test", cred("x/1", None, self.seed))["accepted"])
        calls = self.standin.state()["calls"]
        self.assertIn("POST /v2/iam/api_keys/rk_1/expire", calls)

    def test_crash_retry_then_undo(self):
        old = cred("stripe_secret_key/1", "rk_1", self.seed)
        new = cred("stripe_secret_key/2")
        first = self.call("create", new, old)
        second = self.call("create", new, old)
        self.assertNotEqual(first["value"], second["value"])
        live = self.live("stripe_secret_key/2")
        self.assertEqual([c["sha256"] for c in live], [sha(second["value"])], "one live key after the retry")
        self.assertEqual(self.status_of(first["value"]), "expired")
        self.assertEqual(self.status_of(self.seed), "expiring")
        self.call("undo", cred(new["version"], second["user"], second["value"]), old)
        self.assertEqual(self.live("stripe_secret_key/2"), [])
        self.assertEqual(self.status_of(self.seed), "live", "undo clears the old key's grace")
        self.call("undo", cred(new["version"], second["user"], second["value"]), old)   # again: no change
        self.assertEqual(self.status_of(self.seed), "live")
        # create's reply lost: undo knows only the version; old found by its value
        third = self.call("create", cred("stripe_secret_key/3"), self.old)
        self.remember(third["value"])
        self.call("undo", cred("stripe_secret_key/3"), self.old)
        self.assertEqual(self.live("stripe_secret_key/3"), [])
        self.assertEqual(self.status_of(self.seed), "live")
        # undo of a create that never ran
        before = len(self.standin.state()["credentials"])
        self.call("undo", cred("stripe_secret_key/4"), self.old)
        self.assertEqual(len(self.standin.state()["credentials"]), before)
        self.assertEqual(self.status_of(self.seed), "live")

    def test_new_without_version_touches_nothing(self):
        for op in ("create", "undo"):
            reply = self.call(op, cred(None), self.old, expect_ok=False)
            self.assertIn("no version id", reply["error"]["message"])
        self.assertEqual(self.status_of(self.seed), "live", "the unnamed seed key is not taken for a new one")
        self.assertNotIn("POST /v2/iam/api_keys/rk_1/expire", self.standin.state()["calls"])

    def test_grace_string_and_missing_admin_key(self):
        config = {"base_url": self.standin.url, "grace": "2m"}
        self.assertEqual(self.call("describe", config=config)["grace_seconds"], 120)
        config["admin_key_env"] = "MY_STRIPE_KEY"
        reply = self.call("create", cred("stripe_secret_key/2"), self.old, config=config, expect_ok=False)
        self.assertEqual(reply["error"]["kind"], "permanent")
        self.assertIn("MY_STRIPE_KEY", reply["error"]["message"])
        self.assertEqual(self.standin.state()["calls"], [], "nothing was called")


class TwilioEndToEnd(ProviderCase):
    provider = "twilio"
    secret_name = "twilio_auth_token"

    def seed_value(self):
        return secrets.token_hex(16)

    def start_standin(self):
        self.sid = "AC" + secrets.token_hex(16)
        return Standin("twilio", self.admin_key, self.seed, account_sid=self.sid)

    def setUp(self):
        super().setUp()
        self.config = {"account_sid": self.sid, "base_url": self.standin.url}
        self.old = cred(None, None, self.seed)   # adopted: no version

    def live(self):
        return sorted((c["status"], c["sha256"]) for c in self.standin.state()["credentials"]
                      if c["status"] in ("primary", "secondary"))

    def test_rotation(self):
        self.assert_executable()
        d = self.call("describe")
        self.assertEqual({k: d[k] for k in ("provider", "overlap", "max_live", "mints", "fields")},
                         {"provider": "twilio", "overlap": "dual", "max_live": 2, "mints": True,
                          "fields": ["value"]})
        r = self.call("create", cred("twilio_auth_token/2"), self.old)
        self.assertRegex(r["value"], r"^[0-9a-f]{32}$")
        new = cred("twilio_auth_token/2", None, r["value"])
        self.assertEqual(self.live(), [("primary", sha(self.seed)), ("secondary", sha(r["value"]))])
        self.assertTrue(self.call("test", new, self.old)["accepted"])
        self.assertTrue(self.call("test", cred("x/1", None, self.seed))["accepted"], "old still works")
        self.call("finish", new, self.old)
        self.assertEqual(self.live(), [("primary", sha(r["value"]))], "promote ends the old token")
        self.assertEqual(self.status_of(self.seed), "revoked")
        self.call("finish", new, self.old)   # retried: already promoted, succeeds
        self.call("revoke", new, self.old)
        self.call("revoke", new, self.old)
        self.assertEqual(self.live(), [("primary", sha(r["value"]))])
        self.assertFalse(self.call("test", cred("x/1", None, self.seed))["accepted"])

    def test_create_needs_old(self):
        reply = self.call("create", cred("twilio_auth_token/2"), expect_ok=False)
        self.assertIn("adopt it first", reply["error"]["message"])
        self.assertEqual(self.standin.state()["calls"], [])

    def test_revoke_before_finish_refuses(self):
        r = self.call("create", cred("twilio_auth_token/2"), self.old)
        new = cred("twilio_auth_token/2", None, r["value"])
        reply = self.call("revoke", new, self.old, expect_ok=False)
        self.assertIn("not been promoted", reply["error"]["message"])
        self.assertEqual(self.live(), [("primary", sha(self.seed)), ("secondary", sha(r["value"]))])

    def test_crash_retry_then_undo(self):
        first = self.call("create", cred("twilio_auth_token/2"), self.old)
        second = self.call("create", cred("twilio_auth_token/2"), self.old)
        self.assertEqual(self.live(), [("primary", sha(self.seed)), ("secondary", sha(second["value"]))])
        self.assertEqual(self.status_of(first["value"]), "revoked")
        self.call("undo", cred("twilio_auth_token/2", None, second["value"]), self.old)
        self.assertEqual(self.live(), [("primary", sha(self.seed))])
        self.call("undo", cred("twilio_auth_token/2", None, second["value"]), self.old)   # again
        self.assertEqual(self.live(), [("primary", sha(self.seed))])
        # create's reply lost
        self.call("create", cred("twilio_auth_token/3"), self.old)
        self.call("undo", cred("twilio_auth_token/3"), self.old)
        self.assertEqual(self.live(), [("primary", sha(self.seed))])
        # after finish the new token cannot be taken back
        r = self.call("create", cred("twilio_auth_token/4"), self.old)
        new = cred("twilio_auth_token/4", None, r["value"])
        self.call("finish", new, self.old)
        reply = self.call("undo", new, self.old, expect_ok=False)
        self.assertEqual(reply["error"]["message"], "the new token was promoted; it cannot be taken back")


class CloudflareEndToEnd(ProviderCase):
    provider = "cloudflare"
    admin_env = "CLOUDFLARE_ADMIN_TOKEN"
    secret_name = "cloudflare_token"

    def seed_value(self):
        return secrets.token_urlsafe(30)

    def setUp(self):
        super().setUp()
        self.config = {"token_id": "tok_1", "base_url": self.standin.url,
                       "admin_key_env": "CLOUDFLARE_ADMIN_TOKEN"}
        self.old = cred(None, "tok_1", self.seed)   # adopted: no version

    def active(self):
        return [c["sha256"] for c in self.creds(status="active")]

    def test_rotation(self):
        self.assert_executable()
        d = self.call("describe")
        self.assertEqual({k: d[k] for k in ("provider", "overlap", "max_live", "mints", "fields")},
                         {"provider": "cloudflare", "overlap": "none", "max_live": 1, "mints": True,
                          "fields": ["value"]})
        self.assertTrue(self.call("test", cred("x/1", None, self.seed))["accepted"])
        r = self.call("create", cred("cloudflare_token/2"), self.old)
        self.assertEqual(len(r["value"]), 40)
        new = cred("cloudflare_token/2", None, r["value"])
        self.assertEqual(self.active(), [sha(r["value"])], "overlap none: the roll ends the old at once")
        self.assertEqual(self.status_of(self.seed), "revoked")
        self.assertTrue(self.call("test", new, self.old)["accepted"])
        self.assertFalse(self.call("test", cred("x/1", None, self.seed))["accepted"])
        self.call("finish", new, self.old)
        self.call("revoke", new, self.old)
        self.assertEqual(self.active(), [sha(r["value"])])

    def test_crash_retry_then_undo(self):
        self.call("undo", cred("cloudflare_token/2"), self.old)   # create never ran: nothing to undo
        self.assertEqual(self.standin.state()["calls"], ["GET /client/v4/user/tokens/verify"])
        first = self.call("create", cred("cloudflare_token/2"), self.old)
        second = self.call("create", cred("cloudflare_token/2"), self.old)
        self.assertEqual(self.active(), [sha(second["value"])], "one live token after the retry")
        self.assertEqual(self.status_of(first["value"]), "revoked")
        reply = self.call("undo", cred("cloudflare_token/2", None, second["value"]), self.old, expect_ok=False)
        self.assertEqual(reply["error"]["kind"], "permanent")
        self.assertIn("`rotor resume`", reply["error"]["message"])
        self.assertEqual(self.active(), [sha(second["value"])], "undo leaves the one working token")

    def test_missing_admin_key(self):
        config = dict(self.config, admin_key_env="CF_ROLL_TOKEN")
        reply = self.call("create", cred("cloudflare_token/2"), self.old, config=config, expect_ok=False)
        self.assertIn("CF_ROLL_TOKEN", reply["error"]["message"])
        self.assertEqual(self.active(), [sha(self.seed)])

    def test_wrong_admin_key(self):
        env = clean_env({"CLOUDFLARE_ADMIN_TOKEN": "wrong-" + secrets.token_hex(8)})
        reply = self.call("create", cred("cloudflare_token/2"), self.old, env=env, expect_ok=False)
        self.assertIn("401", reply["error"]["message"])


class S3EndToEnd(ProviderCase):
    provider = "s3"
    admin_env = "S3_ADMIN_KEY"
    secret_name = "s3_key"

    def seed_value(self):
        return secrets.token_urlsafe(30)

    def start_standin(self):
        self.seed_id = "AKIA" + secrets.token_hex(8).upper()
        return Standin("s3", self.admin_key, self.seed, seed_user=self.seed_id)

    def setUp(self):
        super().setUp()
        self.config = {"user": "app", "base_url": self.standin.url, "admin_key_env": "S3_ADMIN_KEY"}
        self.old = cred(None, self.seed_id, self.seed)   # adopted: no version

    def live(self, label=None):
        return [c for c in self.standin.state()["credentials"]
                if c["status"] == "active" and (label is None or c["label"] == label)]

    def test_rotation(self):
        self.assert_executable()
        d = self.call("describe")
        self.assertEqual({k: d[k] for k in ("provider", "overlap", "max_live", "mints", "fields")},
                         {"provider": "s3", "overlap": "dual", "max_live": 2, "mints": True,
                          "fields": ["user", "value"]})
        r = self.call("create", cred("s3_key/2"), self.old)
        self.assertRegex(r["user"], r"^AKIA[A-Z0-9]{16}$")
        self.assertEqual(len(r["value"]), 40)
        new = cred("s3_key/2", r["user"], r["value"])
        self.assertEqual(self.status_of(r["value"]), "active")
        self.assertTrue(self.call("test", new, self.old)["accepted"])
        self.assertTrue(self.call("test", cred("x/1", self.seed_id, self.seed))["accepted"])
        self.assertFalse(self.call("test", cred("x/1", self.seed_id, "wrong"))["accepted"])
        self.call("finish", new, self.old)
        self.assertEqual(self.status_of(self.seed), "active", "finish does not revoke")
        self.call("revoke", new, self.old)
        self.assertEqual(self.status_of(self.seed), "revoked")
        self.assertEqual([c["sha256"] for c in self.live()], [sha(r["value"])])
        calls = self.standin.state()["calls"]
        path = "/iam/users/app/access-keys/" + self.seed_id
        self.assertLess(calls.index("PATCH " + path), calls.index("DELETE " + path))
        self.call("revoke", new, self.old)   # already gone
        self.assertFalse(self.call("test", cred("x/1", self.seed_id, self.seed))["accepted"])

    def test_crash_retry_then_undo(self):
        first = self.call("create", cred("s3_key/2"), self.old)
        second = self.call("create", cred("s3_key/2"), self.old)
        self.assertEqual([c["sha256"] for c in self.live("s3_key/2")], [sha(second["value"])])
        self.assertEqual(self.status_of(first["value"]), "revoked")
        self.assertEqual(self.status_of(self.seed), "active")
        # say revoke had begun on the old key: undo makes it active again
        self.assertEqual(self.standin.call("PATCH", "/iam/users/app/access-keys/" + self.seed_id,
                                           {"status": "Inactive"}, {"Authorization": "Bearer " + self.admin_key}),
                         200)
        self.call("undo", cred("s3_key/2", second["user"], second["value"]), self.old)
        self.assertEqual(self.live("s3_key/2"), [])
        self.assertEqual(self.status_of(self.seed), "active")
        self.call("undo", cred("s3_key/2", second["user"], second["value"]), self.old)   # again
        # create's reply lost
        self.call("create", cred("s3_key/3"), self.old)
        self.call("undo", cred("s3_key/3"), self.old)
        self.assertEqual([c["sha256"] for c in self.live()], [sha(self.seed)])

    def test_limit(self):
        other = self.call("create", cred("s3_key/2"), self.old)
        reply = self.call("create", cred("s3_key/3"), self.old, expect_ok=False)
        message = reply["error"]["message"]
        self.assertEqual(reply["error"]["kind"], "permanent")
        self.assertIn(self.seed_id, message)
        self.assertIn(other["user"], message)
        self.assertIn("limit", message)
        self.assertEqual(len(self.live()), 2, "nothing was deleted")

    def test_new_without_version_touches_nothing(self):
        for op in ("create", "undo"):
            reply = self.call(op, cred(None), self.old, expect_ok=False)
            self.assertIn("no version id", reply["error"]["message"])
        self.assertEqual(self.status_of(self.seed), "active", "the unlabelled seed key is not deleted")
        self.assertFalse([c for c in self.standin.state()["calls"] if c.startswith("DELETE")])

    def test_wrong_admin_key(self):
        env = clean_env({"S3_ADMIN_KEY": "wrong-" + secrets.token_hex(8)})
        reply = self.call("create", cred("s3_key/2"), self.old, env=env, expect_ok=False)
        self.assertIn("401", reply["error"]["message"])


if __name__ == "__main__":
    unittest.main()
