"""The release report's figures of a dark canary: the canary's failed requests served to users vs its failed answers
to a mirror's copies (discarded), in the HTML page, the JUnit XML and through the filters."""

import re

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.progressive.delivery.plugins.filter import report as report_filters
from ansible_collections.progressive.delivery.plugins.module_utils import junit, report_html
from test_junit import parse, walked


def test_the_html_report_shows_users_and_copies_apart():
    state = walked(25).to_dict()
    page = report_html.release_html(state, canary_failed={"users": 0, "copies": 412})
    found = re.search(r'<span class="canary-failed">(.*?)</span>', page).group(1)
    assert found == "the canary&#x27;s failed requests: 0 served to users, 412 answers to copies (discarded)"
    assert "canary-failed" not in report_html.release_html(state)  # not measured: not shown


def test_one_figure_alone_and_rounding():
    assert report_html.canary_failed_text({"users": 3.4}) == "the canary's failed requests: 3 served to users"
    assert report_html.canary_failed_text({"copies": 1}) == (
        "the canary's failed requests: 1 answer to copies (discarded)")
    assert report_html.canary_failed_text({"users": None, "copies": None}) == ""


@pytest.mark.parametrize("bad,named", [({"users": -1}, "canary_failed.users"), ({"copies": "many"}, "canary_failed.copies"),
                                       ({"user": 1}, "{users: N, copies: N}"), ([0, 1], "{users: N, copies: N}"),
                                       ({"users": True}, "canary_failed.users")])
def test_bad_figures_are_refused_naming_them(bad, named):
    with pytest.raises(ValueError) as info:
        report_html.canary_failed_text(bad)
    assert named in str(info.value)


def test_the_junit_suite_carries_them_as_properties_and_in_system_out():
    state = walked(25)
    root = parse(junit.release_junit(state, canary_failed={"users": 0, "copies": 57}))
    props = dict((p.get("name"), p.get("value")) for p in root.iter("property"))
    assert props["canary_failed_user_requests"] == "0" and props["canary_failed_mirrored_answers"] == "57"
    assert "0 served to users, 57 answers to copies (discarded)" in root.find("testsuite/system-out").text
    plain = parse(junit.release_junit(state))
    assert not [p for p in plain.iter("property") if p.get("name").startswith("canary_failed")]


def test_the_filters_pass_them_on_and_name_bad_input():
    filters = report_filters.FilterModule().filters()
    state = walked(25).to_dict()
    assert "2 served to users" in filters["release_report_html"](state, canary_failed={"users": 2})
    assert 'name="canary_failed_user_requests" value="2"' in filters["release_junit"](state, canary_failed={"users": 2})
    with pytest.raises(AnsibleFilterError, match="release_junit: canary_failed.users must be a count"):
        filters["release_junit"](state, canary_failed={"users": "x"})
