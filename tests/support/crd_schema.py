"""Structural schemas of CustomResourceDefinitions (apiextensions.k8s.io/v1), applied as kube-apiserver does.

On every write of a custom resource the API server decodes the body and then, in this order
(k8s.io/apiextensions-apiserver, customresource_handler.go: the versioning codec wraps the
schema-coercing decoder, and the strategy validates afterwards):

1. **prune** fields the structural schema does not declare (unless ``x-kubernetes-preserve-unknown-fields``),
   keeping ``apiVersion``, ``kind`` and ``metadata`` at the root and in ``x-kubernetes-embedded-resource``
   objects, then drop ``null`` values of non-nullable fields that have no default
   (structuralpruning.Prune, structuraldefaulting.PruneNonNullableNullsWithoutDefaults);
2. **default**: apply ``default:`` to absent fields (and to non-nullable nulls), recursively, also in
   array items and map values (structuraldefaulting.Default);
3. **validate** the whole object against the schema (kube-openapi), errors as field paths.

:func:`admit` does the three. Errors are :class:`FieldError` (type, field path, bad value, detail),
worded as ``k8s.io/apimachinery/pkg/util/validation/field`` words them, and :func:`invalid_status` makes
the 422 Status body the API server sends.

Not implemented (say so where it matters): ``x-kubernetes-validations`` (CEL rules) are skipped;
string formats other than date-time, date, byte, uuid, ipv4, ipv6 and cidr are not checked (the API
server knows a few more); validation ratcheting (1.30+) is not done: every write is validated whole.
"""

import base64
import copy
import ipaddress
import re

REQUIRED = "Required value"
INVALID = "Invalid value"
UNSUPPORTED = "Unsupported value"
TOO_LONG = "Too long"
TOO_MANY = "Too many"
DUPLICATE = "Duplicate value"
CAUSE_TYPES = {REQUIRED: "FieldValueRequired", INVALID: "FieldValueInvalid", UNSUPPORTED: "FieldValueNotSupported",
               TOO_LONG: "FieldValueTooLong", TOO_MANY: "FieldValueTooMany", DUPLICATE: "FieldValueDuplicate"}

_OMIT = object()

# ObjectMeta fields (what survives metav1.ObjectMeta round-tripping in objectmeta.Coerce)
OBJECT_META_FIELDS = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                      "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
                      "annotations", "ownerReferences", "finalizers", "managedFields")


class FieldError(object):
    def __init__(self, type_, field, value=_OMIT, detail=""):
        self.type, self.field, self.value, self.detail = type_, field, value, detail

    def body(self):
        if self.type in (REQUIRED, TOO_LONG) or self.value is _OMIT:
            text = self.type
        else:
            text = "%s: %s" % (self.type, go_value(self.value))
        if self.detail:
            text += ": %s" % self.detail
        return text

    def __str__(self):
        return "%s: %s" % (self.field, self.body())

    __repr__ = __str__

    def cause(self):
        return {"reason": CAUSE_TYPES.get(self.type, "FieldValueInvalid"), "message": self.body(), "field": self.field}


def go_value(value):
    """A bad value as field.Error prints it (%q for strings, %v for numbers and booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "map[string]interface {}{%s}" % ", ".join('"%s":%s' % (k, go_value(v)) for k, v in sorted(value.items()))
    if isinstance(value, list):
        return "[]interface {}{%s}" % ", ".join(go_value(v) for v in value)
    return str(value)


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _child(path, key):
    return "%s.%s" % (path, key) if path else key


def _index(path, i):
    return "%s[%d]" % (path, i)


# ------------------------------------------------------------------------------------------- pruning

def prune(obj, schema, root=True):
    """Remove, in place, the fields ``schema`` does not declare; returns the pruned paths."""
    pruned = []
    if root:
        schema = dict(schema or {})
        schema["x-kubernetes-embedded-resource"] = True  # the resource root keeps apiVersion/kind/metadata
    _prune(obj, schema, "", pruned)
    if root and isinstance(obj.get("metadata"), dict):
        _coerce_meta(obj["metadata"], "metadata", pruned)
    return pruned


def _coerce_meta(meta, path, pruned, embedded=False):
    for key in list(meta):
        if key not in OBJECT_META_FIELDS:
            pruned.append(_child(path, key))
            del meta[key]
    if embedded:
        # objectmeta.Coerce writes an embedded ObjectMeta back from the Go struct: a zero creationTimestamp
        # comes back as null (kubernetes/kubernetes#67610)
        meta.setdefault("creationTimestamp", None)


def _embedded_keep(key, value):
    return (key in ("apiVersion", "kind") and isinstance(value, str)) or (key == "metadata" and isinstance(value, dict))


def _prune(x, s, path, pruned):
    if s is not None and s.get("x-kubernetes-preserve-unknown-fields"):
        _skip_prune(x, s, path, pruned)
        return
    if isinstance(x, dict):
        if s is None:
            for k in list(x):
                pruned.append(_child(path, k))
                del x[k]
            return
        props = s.get("properties") or {}
        additional = s.get("additionalProperties")
        for k in list(x):
            v = x[k]
            if s.get("x-kubernetes-embedded-resource") and _embedded_keep(k, v):
                if k == "metadata" and path:
                    _coerce_meta(v, _child(path, k), pruned, embedded=True)
                continue
            if k in props:
                _prune(v, props[k], _child(path, k), pruned)
            elif isinstance(additional, dict):
                _prune(v, additional, _child(path, k), pruned)
            elif additional is True:
                continue
            else:
                pruned.append(_child(path, k))
                del x[k]
    elif isinstance(x, list):
        items = s.get("items") if s is not None else None
        for i, v in enumerate(x):
            _prune(v, items, _index(path, i), pruned)


def _skip_prune(x, s, path, pruned):
    if s is None:
        return
    if isinstance(x, dict):
        props = s.get("properties") or {}
        additional = s.get("additionalProperties")
        for k, v in x.items():
            if s.get("x-kubernetes-embedded-resource") and _embedded_keep(k, v):
                continue
            if k in props:
                _prune(v, props[k], _child(path, k), pruned)
            elif isinstance(additional, dict):
                _prune(v, additional, _child(path, k), pruned)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            _skip_prune(v, s.get("items"), _index(path, i), pruned)


def prune_nulls(x, s):
    """Drop null values of fields that are neither nullable nor defaulted (those get their default)."""
    if s is None:
        return
    if isinstance(x, dict):
        props = s.get("properties") or {}
        additional = s.get("additionalProperties")
        for k in list(x):
            sub = props.get(k)
            if sub is None and isinstance(additional, dict):
                sub = additional
            if sub is None:
                continue
            if x[k] is None and "default" not in sub and not sub.get("nullable"):
                del x[k]
            else:
                prune_nulls(x[k], sub)
    elif isinstance(x, list):
        for v in x:
            prune_nulls(v, s.get("items"))


# ----------------------------------------------------------------------------------------- defaulting

def default(x, s):
    """Apply ``default:`` values in place: absent fields and non-nullable nulls, recursively."""
    if s is None:
        return
    if isinstance(x, dict):
        props = s.get("properties") or {}
        for k, sub in props.items():
            if "default" not in sub:
                continue
            if k not in x or (x[k] is None and not sub.get("nullable")):
                x[k] = copy.deepcopy(sub["default"])
        additional = s.get("additionalProperties")
        for k, v in x.items():
            if k in props:
                default(v, props[k])
            elif isinstance(additional, dict):
                default(v, additional)
    elif isinstance(x, list):
        for v in x:
            default(v, s.get("items"))


# ----------------------------------------------------------------------------------------- validation

_FORMATS = {
    "date-time": re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$"),
    "datetime": re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$"),
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "uuid": re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"),
}
_INT_RANGES = {"int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}
_PATTERNS = {}


def _format_ok(fmt, value):
    if fmt in _FORMATS:
        return bool(_FORMATS[fmt].match(value))
    try:
        if fmt == "byte":
            base64.b64decode(value, validate=True)
        elif fmt == "ipv4":
            ipaddress.IPv4Address(value)
        elif fmt == "ipv6":
            ipaddress.IPv6Address(value)
        elif fmt == "cidr":
            ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True  # formats this engine does not know pass, as unknown formats do on the server


def _pattern(text):
    if text not in _PATTERNS:
        try:
            _PATTERNS[text] = re.compile(text)
        except re.error:  # an RE2 construct Python lacks: not checked
            _PATTERNS[text] = None
    return _PATTERNS[text]


def _type_ok(expected, value):
    actual = json_type(value)
    if expected == "number":
        return actual in ("number", "integer")
    if expected == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == expected


def validate(x, s, path=""):
    """Field errors of ``x`` against schema ``s`` (kube-openapi semantics, kube-apiserver wording)."""
    errors = []
    _validate(x, s, path, errors)
    return errors


def _in_body(path):
    return "%s in body" % (path or "body")


def _validate(x, s, path, errors):
    if not isinstance(s, dict):
        return
    # type (and nullable, int-or-string)
    if x is None:
        if s.get("nullable") or ("type" not in s and not s.get("x-kubernetes-int-or-string")):
            return
        errors.append(FieldError(INVALID, path, "null", "%s must be of type %s: \"null\"" % (
            _in_body(path), s.get("type", "integer,string"))))
        return
    if s.get("x-kubernetes-int-or-string"):
        if json_type(x) not in ("integer", "string"):
            errors.append(FieldError(INVALID, path, json_type(x), "%s must be of type integer,string: \"%s\"" % (
                _in_body(path), json_type(x))))
            return
    elif "type" in s and not _type_ok(s["type"], x):
        errors.append(FieldError(INVALID, path, json_type(x), "%s must be of type %s: \"%s\"" % (
            _in_body(path), s["type"], json_type(x))))
        return
    kind = json_type(x)
    # enum
    if "enum" in s and x not in s["enum"]:
        errors.append(FieldError(UNSUPPORTED, path, x, "supported values: %s" % ", ".join(
            go_value(v) for v in s["enum"])))
    if kind == "string":
        if "maxLength" in s and len(x) > s["maxLength"]:
            errors.append(FieldError(TOO_LONG, path, x, "may not be longer than %d" % s["maxLength"]))
        if "minLength" in s and len(x) < s["minLength"]:
            errors.append(FieldError(INVALID, path, x, "%s should be at least %d chars long" % (
                _in_body(path), s["minLength"])))
        if "pattern" in s:
            rx = _pattern(s["pattern"])
            if rx is not None and not rx.search(x):
                errors.append(FieldError(INVALID, path, x, "%s should match '%s'" % (_in_body(path), s["pattern"])))
        if "format" in s and not _format_ok(s["format"], x):
            errors.append(FieldError(INVALID, path, x, "%s must be of type %s: %s" % (
                _in_body(path), s["format"], go_value(x))))
    if kind in ("integer", "number"):
        if "maximum" in s:
            if s.get("exclusiveMaximum") and x >= s["maximum"]:
                errors.append(FieldError(INVALID, path, x, "%s should be less than %s" % (_in_body(path), s["maximum"])))
            elif x > s["maximum"]:
                errors.append(FieldError(INVALID, path, x, "%s should be less than or equal to %s" % (
                    _in_body(path), s["maximum"])))
        if "minimum" in s:
            if s.get("exclusiveMinimum") and x <= s["minimum"]:
                errors.append(FieldError(INVALID, path, x, "%s should be greater than %s" % (
                    _in_body(path), s["minimum"])))
            elif x < s["minimum"]:
                errors.append(FieldError(INVALID, path, x, "%s should be greater than or equal to %s" % (
                    _in_body(path), s["minimum"])))
        if "multipleOf" in s and s["multipleOf"] and (x / s["multipleOf"]) != int(x / s["multipleOf"]):
            errors.append(FieldError(INVALID, path, x, "%s should be a multiple of %s" % (_in_body(path), s["multipleOf"])))
        if s.get("format") in _INT_RANGES and kind == "integer":
            low, high = _INT_RANGES[s["format"]]
            if not low <= x <= high:
                errors.append(FieldError(INVALID, path, x, "%s must be of type %s: %s" % (
                    _in_body(path), s["format"], go_value(x))))
    if kind == "array":
        if "maxItems" in s and len(x) > s["maxItems"]:
            errors.append(FieldError(TOO_MANY, path, len(x), "must have at most %d items" % s["maxItems"]))
        if "minItems" in s and len(x) < s["minItems"]:
            errors.append(FieldError(INVALID, path, len(x), "%s should have at least %d items" % (
                _in_body(path), s["minItems"])))
        if s.get("uniqueItems"):
            seen = []
            for v in x:
                if v in seen:
                    errors.append(FieldError(INVALID, path, _OMIT, "%s shouldn't contain duplicates" % _in_body(path)))
                    break
                seen.append(v)
        for i, v in enumerate(x):
            _validate(v, s.get("items"), _index(path, i), errors)
        _list_type(x, s, path, errors)
    if kind == "object":
        if "maxProperties" in s and len(x) > s["maxProperties"]:
            errors.append(FieldError(TOO_MANY, path, len(x), "must have at most %d items" % s["maxProperties"]))
        if "minProperties" in s and len(x) < s["minProperties"]:
            errors.append(FieldError(INVALID, path, len(x), "%s should have at least %d properties" % (
                _in_body(path), s["minProperties"])))
        for name in s.get("required") or []:
            if name not in x:
                errors.append(FieldError(REQUIRED, _child(path, name)))
        props = s.get("properties") or {}
        additional = s.get("additionalProperties")
        for k, v in x.items():
            if k in props:
                _validate(v, props[k], _child(path, k), errors)
            elif isinstance(additional, dict):
                _validate(v, additional, _child(path, k), errors)
        if s.get("x-kubernetes-embedded-resource") and path:
            for name in ("apiVersion", "kind"):
                if not x.get(name) and x:
                    errors.append(FieldError(REQUIRED, _child(path, name), _OMIT, "must not be empty"))
    # value validations: allOf, anyOf, oneOf, not
    for sub in s.get("allOf") or []:
        _validate(x, sub, path, errors)
    if s.get("anyOf") and not s.get("x-kubernetes-int-or-string"):
        if not any(not validate(x, sub, path) for sub in s["anyOf"]):
            errors.append(FieldError(INVALID, path, kind, "%s must validate at least one schema (anyOf)" % _in_body(path)))
    if s.get("oneOf"):
        passing = sum(1 for sub in s["oneOf"] if not validate(x, sub, path))
        if passing != 1:
            errors.append(FieldError(INVALID, path, kind, "%s must validate one and only one schema (oneOf). %s" % (
                _in_body(path), "Found none valid" if passing == 0 else "Found %d valid alternatives" % passing)))
    if isinstance(s.get("not"), dict) and not validate(x, s["not"], path):
        errors.append(FieldError(INVALID, path, kind, "%s must not validate the schema (not)" % _in_body(path)))
    # x-kubernetes-validations (CEL): not evaluated by this engine


def _list_type(x, s, path, errors):
    """x-kubernetes-list-type set / map: duplicates are refused (ValidateListSetsAndMaps)."""
    list_type = s.get("x-kubernetes-list-type")
    if list_type == "set":
        seen = []
        for i, v in enumerate(x):
            if v in seen:
                errors.append(FieldError(DUPLICATE, _index(path, i), v))
            else:
                seen.append(v)
    elif list_type == "map":
        keys = s.get("x-kubernetes-list-map-keys") or []
        seen = []
        for i, v in enumerate(x):
            if not isinstance(v, dict):
                continue
            key = dict((k, v.get(k)) for k in keys)
            if key in seen:
                errors.append(FieldError(DUPLICATE, _index(path, i), key))
            else:
                seen.append(key)


# ------------------------------------------------------------------------------------------ together

def admit(obj, schema, validate_meta=True):
    """What the API server stores for a write of ``obj``: (pruned and defaulted copy, field errors)."""
    out = copy.deepcopy(obj)
    prune(out, schema, root=True)
    prune_nulls(out, schema)
    default(out, schema)
    errors = validate(out, schema, "")
    if validate_meta:
        errors = _meta_errors(out) + errors
    return out, errors


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _meta_errors(obj):
    name = (obj.get("metadata") or {}).get("name")
    if not name:
        return []  # a missing name is answered by the server (generateName, or "name or generateName is required")
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        return [FieldError(INVALID, "metadata.name", name,
                           "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                           "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
                           "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    return []


def invalid_message(kind, group, name, errors):
    """``Rollout.argoproj.io "x" is invalid: <error>`` or ``... is invalid: [<error>, <error>]``."""
    qualified = "%s.%s" % (kind, group) if group else kind
    if not errors:
        return '%s "%s" is invalid' % (qualified, name)
    if len(errors) == 1:
        return '%s "%s" is invalid: %s' % (qualified, name, errors[0])
    return '%s "%s" is invalid: [%s]' % (qualified, name, ", ".join(str(e) for e in errors))


def invalid_status(kind, group, name, errors):
    """The 422 Status body of apierrors.NewInvalid."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": invalid_message(kind, group, name, errors), "reason": "Invalid",
            "details": {"name": name, "group": group, "kind": kind, "causes": [e.cause() for e in errors]},
            "code": 422}
