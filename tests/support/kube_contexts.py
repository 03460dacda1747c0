"""A kubeconfig with one context per "cluster", for fleet releases over several clusters on one test cluster.

Each context has the same server and credentials as the source kubeconfig's current context, and its own
namespace (a namespace stands in for a cluster). The current context points to a server nobody listens on, so a
module that ignored the context it was given fails instead of silently reaching the cluster."""

import json
import os

import yaml

UNREACHABLE = "https://127.0.0.1:1"
# fields of a kubeconfig's cluster and user entries that name files (relative to the kubeconfig's directory)
_FILE_FIELDS = ("certificate-authority", "client-certificate", "client-key", "tokenFile")


def _named(entries, name, what, source):
    for entry in entries or []:
        if entry.get("name") == name:
            return entry
    raise ValueError("%s: no %s named %r" % (source, what, name))


def _absolute(entry, base):
    entry = dict(entry)
    for field in _FILE_FIELDS:
        if entry.get(field) and not os.path.isabs(entry[field]):
            entry[field] = os.path.join(base, entry[field])
    return entry


def write(source, path, namespaces, unreachable=UNREACHABLE):
    """Write ``path``: contexts named after ``namespaces``' keys, each in its namespace (context -> namespace),
    all on the server of ``source``'s current context; current-context is ``unreachable``. Returns ``path``."""
    with open(source) as f:
        config = yaml.safe_load(f)
    base = os.path.dirname(os.path.abspath(source))
    current = _named(config.get("contexts"), config.get("current-context"), "context", source)["context"]
    cluster = _absolute(_named(config.get("clusters"), current["cluster"], "cluster", source)["cluster"], base)
    user = _absolute(_named(config.get("users"), current["user"], "user", source)["user"], base)
    contexts = [{"name": name, "context": {"cluster": "fleet", "user": "fleet", "namespace": namespace}}
                for name, namespace in namespaces.items()]
    # no credentials for the server nobody listens on
    contexts.append({"name": "unreachable", "context": {"cluster": "unreachable", "user": "nobody"}})
    written = {"apiVersion": "v1", "kind": "Config", "current-context": "unreachable",
               "clusters": [{"name": "fleet", "cluster": cluster},
                            {"name": "unreachable", "cluster": {"server": unreachable}}],
               "users": [{"name": "fleet", "user": user}, {"name": "nobody", "user": {}}], "contexts": contexts}
    with open(path, "w") as f:
        json.dump(written, f)  # YAML is a superset of JSON
    os.chmod(path, 0o600)  # it holds the credentials
    return path
