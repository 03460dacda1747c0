# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Kubernetes routers share: read, change, replace with the resourceVersion read (409: read again
and rebuild, k8s.update_with_retry), the routing asked for kept in an annotation, the release state in a ConfigMap."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.progressive.delivery.plugins.module_utils.k8s import (
    describe, kept, read_object, update_with_retry, write_object)
from ansible_collections.progressive.delivery.plugins.module_utils.release_store import ConfigMapStore
from ansible_collections.progressive.delivery.plugins.module_utils.routers import Change, Router, RouterError, Routing

ROUTING_ANNOTATION = "progressive.delivery/routing"
MIRROR_ROUTE_PREFIX = "mirror-"  # the route (Istio) or rule (Gateway API) that carries a setMirrorRoute step's copies


class KubernetesRouter(Router):
    """Subclasses set ``kind``/``api_version`` and implement ``build(obj, routing)`` (the object as it
    should be; ``obj`` is None when it does not exist yet) and ``canary_weight_of(obj)``; a router that mirrors
    also sets ``supports_mirror`` and implements ``mirror_of(obj)``."""

    api_version = None
    object_kind = None

    def __init__(self, release, client, namespace, name, stable_service, canary_service, port=80, host=None,
                 check_mode=False):
        super(KubernetesRouter, self).__init__(release, check_mode)
        self.client = client
        self.namespace = namespace
        self.name = name
        self.stable_service = stable_service
        self.canary_service = canary_service
        self.port = port
        self.host = host

    def describe(self):
        return "%s router of release '%s' (%s)" % (self.kind, self.release,
                                                   describe(self.object_kind, self.name, self.namespace))

    def read(self, kind=None, name=None, api_version=None):
        """The object, or None when it does not exist."""
        return read_object(self.client, kind or self.object_kind, name or self.name, self.namespace,
                           api_version or self.api_version, missing_ok=True)

    def current_routing(self):
        obj = self.read()
        if obj is None:
            return None
        noted = ((obj.get("metadata") or {}).get("annotations") or {}).get(ROUTING_ANNOTATION)
        routing = Routing.from_dict(json.loads(noted)) if noted else Routing()
        # the weight and the mirror are what the object says, whatever the annotation claims
        try:
            mirror = self.mirror_of(obj)
        except RouterError:  # a mirror route someone changed by hand: none of ours, the next reconcile renders it
            mirror = None
        return routing.replace(canary_weight=self.canary_weight_of(obj), active=routing.active, mirror=mirror)

    def mirror_of(self, obj):
        """The Mirror the object carries, or None; routers that cannot mirror carry none."""
        return None

    def reconcile(self, routing):
        self.check_routing(routing)  # before anything is read or written

        def plan(obj):
            desired = self.build(copy.deepcopy(obj) if obj else None, routing)
            meta = desired.setdefault("metadata", {})
            meta.setdefault("annotations", {})[ROUTING_ANNOTATION] = json.dumps(routing.to_dict(), sort_keys=True)
            # compare with what the server would keep (its defaults, its pruning), never with our own build:
            # a dry run of the write answers that, and in check mode it is the prediction (or the refusal)
            return desired, write_object(self.client, desired, self.namespace, create=obj is None, dry_run=True)

        def write(obj, planned):
            desired, answer = planned
            if obj is not None and kept(obj) == kept(answer):
                return Change(False, obj, obj)
            if self.check_mode:
                return Change(True, obj, answer)
            return Change(True, obj, write_object(self.client, desired, self.namespace, create=obj is None))
        return update_with_retry(self.read, plan, write, self.describe()).after

    # ------------------------------------------------------------------ state

    @property
    def state_name(self):
        return "pd-release-%s" % self.release

    def state_store(self):
        return ConfigMapStore(lambda: self.read("ConfigMap", self.state_name, "v1"),
                              lambda body, create: write_object(self.client, body, self.namespace, create=create),
                              self.state_name, self.namespace, self.describe(), self.check_mode)
