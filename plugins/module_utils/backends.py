# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is the stable pool alive? What a rollback checks before it says "verified".

Host nginx sends traffic to every address it lists, so each stable address must answer an HTTP GET
of the health path with a 2xx or 3xx. A Kubernetes router sends traffic to the ready endpoints of
the stable Service, so the Service must have at least one (EndpointSlices, or the Endpoints object
on a cluster without them); endpoints that are not ready get no traffic and are only counted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.urls import open_url
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import (
    Forbidden, KubernetesError, describe, find_objects, read_object)

# seconds a reload may take to reach every nginx worker (old workers finish the connections they accepted)
SETTLE_SECONDS = 5

# a 5xx answer is asked again this many times in all (a healthy app can fail one request);
# no answer at all (refused, timeout) is not
HTTP_ATTEMPTS = 3
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _reason(error, timeout):
    """Short words for why a probe got no answer."""
    reason = getattr(error, "reason", error)  # URLError wraps the socket error
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in str(reason):
        return "no answer within %ss" % timeout
    if isinstance(reason, socket.gaierror):
        return "name does not resolve (%s)" % reason
    return str(reason) or reason.__class__.__name__


def _status(address, path, timeout):
    """(HTTP status or None, words) for one GET; redirects are answers, not followed."""
    url = "http://%s%s" % (address, path)
    try:
        resp = open_url(url, method="GET", timeout=timeout, follow_redirects="none", validate_certs=False,
                        use_proxy=False, http_agent="progressive.delivery stable check")
        try:
            code = resp.getcode()
        finally:
            resp.close()
        return code, "HTTP %s" % code
    except OSError as e:  # URLError and HTTPError (which carries the status) are OSErrors
        code = getattr(e, "code", None)
        if isinstance(code, int):
            return code, "HTTP %s" % code
        return None, _reason(e, timeout)
    except Exception as e:  # http.client errors (a server that is not HTTP) are not OSErrors
        return None, "not an HTTP answer (%s)" % (str(e) or e.__class__.__name__)


def probe(server, path="/", timeout=2):
    """Probe one nginx upstream ``server`` line (``host:port``, optionally with parameters)."""
    address = str(server).split()[0] if str(server).strip() else str(server)
    result = {"address": address, "url": "http://%s%s" % (address, path), "healthy": False, "status": None}
    if address.startswith("unix:"):
        result["reason"] = "a unix socket cannot be probed over HTTP; check it by hand, or set verify_stable: false"
        return result
    for _attempt in range(HTTP_ATTEMPTS):
        code, words = _status(address, path, timeout)
        result.update(status=code, reason=words)
        if code is None or code < 500:
            break
    result["healthy"] = result["status"] is not None and 200 <= result["status"] < 400
    if result["status"] is not None and 400 <= result["status"] < 500:
        result["reason"] += " (is health_path %s right?)" % path
    return result


def verify_nginx(stable, path="/", timeout=2, served=None):
    """Probe every stable address. ``served`` is the routing the running nginx reports; when its stable
    list differs from ``stable``, or it still gives the canary a share, the traffic does not go where
    the rollback says, and the check fails whatever the addresses answer."""
    servers = list(stable or [])
    if not servers:
        return {"healthy": False, "checked": [], "message": "no stable address is configured", "ready": 0, "total": 0,
                "routed_as_configured": True}
    with ThreadPoolExecutor(max_workers=min(16, len(servers))) as pool:
        checked = list(pool.map(lambda s: probe(s, path, timeout), servers))
    dead = [c for c in checked if not c["healthy"]]
    healthy = len(checked) - len(dead)
    if dead:
        message = "%d/%d stable backends healthy; the stable pool does not answer: %s" % (
            healthy, len(checked), ", ".join("%s %s" % (c["address"], c["reason"]) for c in dead))
    else:
        message = "%d/%d stable backends healthy (GET %s)" % (healthy, len(checked), path)
    served_stable = list((served or {}).get("stable") or [])
    stale = served is not None and served_stable != servers
    if stale:
        message = "nginx still sends stable traffic to %s, not to the configured %s (the router was not updated); " \
                  "configured pool: %s" % (", ".join(served_stable), ", ".join(servers), message)
    elif served is not None and served.get("canary_weight"):
        stale = True
        message = "nginx still sends %s%% of traffic to the canary; %s" % (served["canary_weight"], message)
    return {"healthy": not dead and not stale, "checked": checked, "message": message, "ready": healthy,
            "total": len(checked), "routed_as_configured": not stale}


def _slice_endpoints(slices):
    out = []
    for s in slices:
        ports = [p.get("port") for p in s.get("ports") or []]
        for ep in s.get("endpoints") or []:
            # a missing 'ready' means unknown, which consumers read as ready (the API's own advice)
            ready = (ep.get("conditions") or {}).get("ready") is not False
            target = (ep.get("targetRef") or {}).get("name")
            for address in ep.get("addresses") or []:
                out.append({"address": address, "ports": ports, "ready": ready, "pod": target,
                            "source": "EndpointSlice/%s" % s["metadata"]["name"]})
    return out


def _endpoints_object(obj):
    out = []
    for subset in (obj or {}).get("subsets") or []:
        ports = [p.get("port") for p in subset.get("ports") or []]
        for ready, field in ((True, "addresses"), (False, "notReadyAddresses")):
            for a in subset.get(field) or []:
                out.append({"address": a.get("ip") or a.get("hostname"), "ports": ports, "ready": ready,
                            "pod": (a.get("targetRef") or {}).get("name"),
                            "source": "Endpoints/%s" % obj["metadata"]["name"]})
    return out


def service_endpoints(client, namespace, service):
    """The Service's endpoints, each with ``address``, ``ports``, ``ready``: from its EndpointSlices, or
    from the Endpoints object where the cluster has no EndpointSlice API (or no slice for it)."""
    try:
        slices = find_objects(client, "EndpointSlice", namespace, "discovery.k8s.io/v1",
                              label_selector="%s=%s" % (SERVICE_NAME_LABEL, service))
    except Forbidden:
        raise
    except KubernetesError:
        slices = []
    except Exception:  # pylint: disable=broad-except  # discovery: no EndpointSlice API on this cluster
        slices = []
    if slices:
        return _slice_endpoints(slices)
    try:
        return _endpoints_object(read_object(client, "Endpoints", service, namespace, "v1"))
    except Forbidden:
        raise
    except KubernetesError:
        return []  # no Endpoints object either (or no such API): the Service has no endpoints


def verify_service(client, namespace, service):
    what = describe("Service", service, namespace)
    svc = read_object(client, "Service", service, namespace, "v1", missing_ok=True)
    if svc is None:
        return {"healthy": False, "checked": [], "ready": 0, "total": 0,
                "message": "the stable %s does not exist; fix kubernetes_target.stable_service" % what}
    if (svc.get("spec") or {}).get("type") == "ExternalName":
        return {"healthy": False, "checked": [], "ready": 0, "total": 0,
                "message": "the stable %s is an ExternalName (%s); its backends cannot be checked from here, "
                           "check them by hand or set verify_stable: false" % (what, svc["spec"].get("externalName"))}
    checked = service_endpoints(client, namespace, service)
    ready = [e for e in checked if e["ready"]]
    if ready:
        message = "%d/%d stable backends healthy (ready endpoints of %s)" % (len(ready), len(checked), what)
    elif checked:
        message = "0/%d stable backends healthy: no endpoint of the stable %s is ready (%s); the stable pods " \
                  "are not serving - check them (kubectl get pods -n %s) or scale the stable ReplicaSet up" % (
                      len(checked), what, ", ".join(e["address"] for e in checked), namespace)
    else:
        message = "0/0 stable backends healthy: the stable %s has no endpoints - its selector matches no " \
                  "running pod (kubectl get endpointslices -n %s -l %s=%s)" % (what, namespace, SERVICE_NAME_LABEL,
                                                                               service)
    return {"healthy": bool(ready), "checked": checked, "message": message, "ready": len(ready),
            "total": len(checked)}


def _settled_routing(router, settle=SETTLE_SECONDS):
    """What nginx serves for the release, once every worker has the configured stable pool and no canary
    share, or whatever it still serves after ``settle`` seconds (None when nothing answers)."""
    deadline = time.time() + settle
    while True:
        routing = router.served_routing()
        if routing is not None and list(routing.get("stable") or []) == list(router.stable) \
                and not routing.get("canary_weight"):
            return routing
        if time.time() >= deadline:
            return routing
        time.sleep(0.1)


def verify_stable(router, path="/", timeout=2):
    """Do the backends the router now sends stable traffic to answer?

    Returns ``{healthy, checked, message, ready, total, routed_as_configured}``; ``checked`` has one entry an address (nginx)
    or an endpoint (Kubernetes). Raises KubernetesError when the API cannot be read."""
    if router.kind == "nginx":
        if router.check_mode:  # nothing was written: nginx still serves the old pool, so probe the configured one
            return verify_nginx(router.stable, path, timeout)
        routing = _settled_routing(router)
        result = verify_nginx(router.stable, path, timeout, routing)
        if routing is None:
            result.update(healthy=False, routed_as_configured=False, message=(
                "the running nginx does not say what it routes for %s (its routing endpoint does not answer), so "
                "nothing may reach the stable pool; is nginx running? %s" % (router.release, result["message"])))
        return result
    result = verify_service(router.client, router.namespace, router.stable_service)
    result["routed_as_configured"] = True  # the router object was written and read back by reconcile
    return result
