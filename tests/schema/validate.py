#!/usr/bin/python3
"""Validate certctl JSON documents against the schemas of this directory.

    validate.py [--kind KIND] [FILE...]   each FILE (or standard input) is one
        document; its schema is KIND.json, else the one its "schema" member
        names ("certctl.KIND/1" -> KIND.json).  Exit 1 when one is invalid.
    validate.py --check-schemas           every schema is a valid JSON Schema
        (draft 2020-12) and its references resolve.
    validate.py --names                   every property name the schemas
        define, one per line (to compare with certctl-json(7)).

Works with python3-jsonschema 4.10 (Debian 12: RefResolver) and with the
later versions that resolve references through the `referencing` package.
"""
import json
import os
import sys
import warnings

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
warnings.simplefilter("ignore", DeprecationWarning)


def load_schemas():
    schemas = {}
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".json"):
            with open(os.path.join(HERE, name)) as f:
                schemas[name] = json.load(f)
    return schemas


def validator(schemas, ref):
    """A draft 2020-12 validator of the schema at `ref` ("NAME.json" or
    "NAME.json#/$defs/X"), every file of this directory resolvable."""
    cls = jsonschema.Draft202012Validator
    try:
        from referencing import Registry, Resource
    except ImportError:
        root = {"$ref": ref}
        resolver = jsonschema.RefResolver(base_uri="", referrer=root, store=schemas)
        return cls(root, resolver=resolver)
    registry = Registry().with_resources(
        (n, Resource.from_contents(s)) for n, s in schemas.items())
    return cls({"$ref": ref}, registry=registry)


def refs(node, out):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            out.append(node["$ref"])
        for value in node.values():
            refs(value, out)
    elif isinstance(node, list):
        for value in node:
            refs(value, out)


def names(node, out):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            names(value, out)
    elif isinstance(node, list):
        for value in node:
            names(value, out)


def main(argv):
    schemas = load_schemas()
    if argv[:1] == ["--check-schemas"]:
        for name, schema in schemas.items():
            jsonschema.Draft202012Validator.check_schema(schema)
            found = []
            refs(schema, found)
            for ref in found:
                target = name + ref if ref.startswith("#") else ref
                try:
                    # Validating anything against {"$ref": target} resolves it.
                    validator(schemas, target).is_valid(None)
                except Exception as e:  # noqa: BLE001 - any failure to resolve
                    print("%s: unresolvable $ref %s: %s" % (name, ref, str(e)[:200]))
                    return 1
        print("%d schemas" % len(schemas))
        return 0
    if argv[:1] == ["--names"]:
        out = set()
        for schema in schemas.values():
            names(schema, out)
        print("\n".join(sorted(out)))
        return 0
    kind = None
    if argv[:1] == ["--kind"]:
        kind, argv = argv[1], argv[2:]
    bad = 0
    for path in argv or ["-"]:
        where = "standard input" if path == "-" else path
        text = sys.stdin.read() if path == "-" else open(path).read()
        try:
            doc = json.loads(text)
        except ValueError as e:
            print("%s: not one JSON document: %s" % (where, e))
            bad += 1
            continue
        k = kind
        if k is None:
            s = doc.get("schema", "") if isinstance(doc, dict) else ""
            if not (s.startswith("certctl.") and s.endswith("/1")):
                print("%s: no certctl schema member: %r" % (where, s))
                bad += 1
                continue
            k = s[len("certctl."):-len("/1")]
        if k + ".json" not in schemas or k == "records":
            print("%s: no schema %s.json" % (where, k))
            bad += 1
            continue
        errors = sorted(validator(schemas, k + ".json").iter_errors(doc),
                        key=lambda e: list(e.absolute_path))
        for e in errors[:20]:
            path_text = "/".join(str(p) for p in e.absolute_path) or "(top)"
            print("%s: %s: %s: %s" % (where, k, path_text, e.message[:300]))
        if errors:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
