# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading AnalysisTemplate documents from YAML files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml
except ImportError:  # PyYAML ships with ansible-core; this keeps the import sanity test honest
    yaml = None

TEMPLATE_KINDS = ("AnalysisTemplate", "ClusterAnalysisTemplate")


class TemplateError(Exception):
    """A template file or name that cannot be used, with the fix."""


def load_yaml_documents(path, what="file"):
    """Every document of a YAML file."""
    if yaml is None:
        raise TemplateError("PyYAML is required to read %s" % what)
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except (IOError, OSError) as e:
        raise TemplateError("cannot read %s %s: %s" % (what, path, e.strerror or e))
    except yaml.YAMLError as e:
        raise TemplateError("%s %s is not valid YAML: %s" % (what, path, e))


def load_template_file(path):
    """Every AnalysisTemplate/ClusterAnalysisTemplate document of a YAML file."""
    documents = load_yaml_documents(path, "template_file")
    templates = [d for d in documents if isinstance(d, dict) and d.get("kind") in TEMPLATE_KINDS]
    if not templates:
        raise TemplateError("template_file %s holds no AnalysisTemplate or ClusterAnalysisTemplate "
                            "document" % path)
    return templates


def pick_templates(documents, names, cluster_scope, source, quiet=False):
    """The documents with the given names (all documents when names is empty)."""
    if not names:
        return list(documents)
    kind = "ClusterAnalysisTemplate" if cluster_scope else "AnalysisTemplate"
    by_name = {}
    for doc in documents:
        if doc.get("kind") == kind:
            by_name[(doc.get("metadata") or {}).get("name")] = doc
    missing = [n for n in names if n not in by_name]
    if missing:
        if quiet:
            return []
        raise TemplateError("%s '%s' not found in %s; it has: %s" % (
            kind, missing[0], source, ", ".join(sorted(k for k in by_name if k)) or "none of that kind"))
    return [by_name[n] for n in names]
