#!/usr/bin/env python3
# A plugin that misbehaves on `create` in the way argv[1] names, and
# behaves on every other call: the bad-plugin tests drive rotor with it.
# It appends every value it is given or makes to values.log so that the
# test can scan rotor's output for them, and every operation it is asked
# for to ops.log.
import json
import os
import sys
import time

mode = sys.argv[1]
req = json.loads(sys.stdin.readline())
op = req["op"]
new = req.get("new") or {}


def reply(**fields):
    print(json.dumps({"protocol": 1, "ok": True, **fields}))
    sys.exit(0)


def log(name, text):
    with open(name, "a") as f:
        f.write(text + "\n")


log("ops.log", op)

if op == "describe":
    if mode == "version":
        print(json.dumps({"protocol": 2, "ok": True, "provider": "bad", "overlap": "dual",
                          "max_live": 2, "mints": False}))
        sys.exit(0)
    if mode == "hang-describe":
        time.sleep(120)
    reply(provider="bad", overlap="dual", max_live=2, mints=mode in ("echo-user", "mint-newline"))

if op == "create":
    if new.get("value"):
        log("values.log", new["value"])
    if mode == "hang":
        time.sleep(120)
    if mode == "exit1":
        sys.stderr.write("boom: the provider refused key %s\n" % new.get("value"))
        sys.exit(1)
    if mode == "garbage":
        print("this is not json {")
        sys.exit(0)
    if mode == "huge":
        chunk = "x" * (1024 * 1024)
        for _ in range(100):
            sys.stdout.write(chunk)
        sys.exit(0)
    if mode == "echo":
        print(json.dumps({"protocol": 1, "ok": False,
                          "error": {"kind": "permanent", "message": "rejected key " + new["value"]}}))
        sys.exit(0)
    if mode == "echo-user":
        v = "minted-" + os.urandom(16).hex()
        log("values.log", v)
        reply(value=v, user="id-for-" + v)
    if mode == "mint-newline":
        v = "minted-" + os.urandom(16).hex()
        log("values.log", v)
        reply(value=v + "\nINJECTED=1")
    if mode == "leak-admin":
        sys.stderr.write("provider said no to admin key %s\n" % os.environ.get("BAD_ADMIN_KEY"))
        sys.exit(1)
    if mode == "twolines":
        print("{}")
        print("{}")
        sys.exit(0)
    if mode == "refuse-test":
        reply()

if op == "undo":
    log("undo.log", "undo " + (new.get("version") or ""))
    reply()

if op == "test":
    reply(accepted=mode != "refuse-test")

reply()
