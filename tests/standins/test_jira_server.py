"""The Jira stand-in, driven by the real `jira` client over HTTP: wire format, JQL subset, lag, faults, lifecycle."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import jira.resilientsession
import pytest
import requests
from jira import JIRA, JIRAError

from tests.standins.jira_server import Fault, JiraStandIn, parse_jql

EMAIL, TOKEN = "bot@example.com", "secret-token"
CREATE = r"/rest/api/2/issue$"

Connect = Callable[..., JIRA]


def task(summary: str, **extra: Any) -> dict[str, Any]:
    """Create-issue fields the way reviewbot should send them: project and issue type as dicts."""
    return {"project": {"key": "POL"}, "issuetype": {"name": "Task"}, "summary": summary, **extra}


def paths(standin: JiraStandIn) -> list[str]:
    """'METHOD /path?query' of every request the stand-in saw."""
    return [f"{method} {target}" for method, target, _ in standin.requests]


@pytest.fixture
def cloud() -> Iterator[JiraStandIn]:
    """A Jira Cloud stand-in; fails the test if the stand-in itself raised."""
    with JiraStandIn() as standin:
        yield standin
    assert standin.errors == []


@pytest.fixture
def server() -> Iterator[JiraStandIn]:
    """A Jira Server/Data Center stand-in."""
    with JiraStandIn(deployment="Server") as standin:
        yield standin
    assert standin.errors == []


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Real clients: basic auth (email, API token) for Cloud, a PAT for Server; closed after the test."""
    clients: list[JIRA] = []

    def make(standin: JiraStandIn, *, token: str = TOKEN, max_retries: int = 0, **kwargs: Any) -> JIRA:
        auth: dict[str, Any] = (
            {"basic_auth": (EMAIL, token)} if standin.deployment == "Cloud" else {"token_auth": token}
        )
        client = JIRA(server=standin.url, max_retries=max_retries, timeout=5, **auth, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- metadata and construction -------------------------------------------------------------------------------------


def test_cloud_client_construction_reads_server_info(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)

    assert paths(cloud) == ["GET /rest/api/2/serverInfo"]  # JIRA() makes this one call before anything else
    assert client.deploymentType == "Cloud"
    assert client.server_info()["versionNumbers"] == [1001, 0, 0]
    me = client.myself()
    assert me["accountId"] and me["emailAddress"] == EMAIL and "name" not in me


def test_server_client_sends_bearer_token_and_sees_server_identity(server: JiraStandIn, connect: Connect) -> None:
    client = connect(server)

    assert client.deploymentType == "Server"
    assert client.server_info()["versionNumbers"] == [9, 12, 0]
    me = client.myself()
    assert me["name"] == "bot" and me["key"] and "accountId" not in me


def test_project_fields_and_issue_types(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)

    project = client.project("POL")
    assert project.key == "POL" and project.id == "10000"
    assert [c.name for c in project.components] == ["Refunds", "Returns", "Shipping"]
    assert [t.name for t in project.issueTypes] == ["Task", "Bug", "Story"]
    assert client.issue_type_by_name("Bug", project="POL").id == "10002"
    names = {f["id"]: f["name"] for f in client.fields()}
    assert names["customfield_10042"] == "Policy section" and names["customfield_10043"] == "Impact"
    statuses = client.issue_types_for_project("POL")[0].statuses
    assert {s.name: s.statusCategory.key for s in statuses} == {
        "To Do": "new",
        "In Progress": "indeterminate",
        "Accepted": "indeterminate",
        "Won't Do": "done",
        "Done": "done",
    }
    with pytest.raises(JIRAError) as missing:
        client.project("NOPE")
    assert missing.value.status_code == 404


# --- create, get, update -------------------------------------------------------------------------------------------


def test_create_then_get_round_trips_all_fields(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)

    issue = client.create_issue(
        fields=task(
            "Review Refunds",
            description="Evidence: 9 complaints",
            labels=["prb-0123456789abcdef", "reviewbot"],
            priority={"name": "High"},
            components=[{"name": "Refunds"}],
            customfield_10042="refunds",
            customfield_10043={"value": "High"},
        )
    )

    assert issue.key == "POL-1"
    assert paths(cloud)[1:] == ["POST /rest/api/2/issue", "GET /rest/api/2/issue/POL-1"]  # create, then prefetch
    _, _, body = cloud.requests[1]
    assert body is not None and body["fields"]["project"] == {"key": "POL"}
    fetched = client.issue("POL-1")
    assert fetched.fields.summary == "Review Refunds"
    assert fetched.fields.description == "Evidence: 9 complaints"
    assert fetched.fields.labels == ["prb-0123456789abcdef", "reviewbot"]
    assert fetched.fields.priority.name == "High"
    assert [c.name for c in fetched.fields.components] == ["Refunds"]
    assert fetched.fields.customfield_10042 == "refunds"
    assert fetched.fields.customfield_10043.value == "High"
    assert fetched.fields.status.name == "To Do" and fetched.fields.status.statusCategory.key == "new"
    assert fetched.fields.issuetype.name == "Task" and fetched.fields.project.key == "POL"
    assert fetched.fields.created and fetched.fields.resolution is None
    assert cloud.issues["POL-1"]["fields"]["summary"] == "Review Refunds"
    only_summary = client.issue("POL-1", fields="summary")
    assert set(only_summary.raw["fields"]) == {"summary"}


def test_create_with_string_project_and_type_costs_lookups(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)

    issue = client.create_issue(project="POL", issuetype="Bug", summary="Strings")

    assert issue.fields.issuetype.name == "Bug"
    assert paths(cloud)[1:4] == [
        "GET /rest/api/2/project/POL",
        "GET /rest/api/2/project/10000?expand=issueTypes",
        "POST /rest/api/2/issue",
    ]


def test_create_validation_answers_400_like_jira(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    bad = [
        ({**task("x"), "project": {"key": "NOPE"}}, "valid project is required"),
        ({**task("x"), "issuetype": {"name": "Epic"}}, "valid issue type is required"),
        ({"project": {"key": "POL"}, "issuetype": {"id": "10001"}}, "You must specify a summary of the issue."),
        (task("two\nlines"), "newline characters"),
        (task("x", labels=["has space"]), "contains spaces"),
        (task("x", customfield_10043="High"), "Could not find valid 'id' or 'value'"),
        (task("x", assignee={"accountId": "557058:bob"}), "User '557058:bob' does not exist"),
        (task("x", reporter={"name": "bob"}), "Field 'reporter' cannot be set"),
    ]
    for fields, message in bad:
        with pytest.raises(JIRAError) as error:
            client.create_issue(fields=fields)
        assert error.value.status_code == 400
        assert message in error.value.text
    assert cloud.issues == {}


def test_missing_issue_is_404(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)

    with pytest.raises(JIRAError) as error:
        client.issue("POL-99")

    assert error.value.status_code == 404
    assert "does not exist" in error.value.text


def test_update_is_a_put_by_id_with_fields_and_label_verbs(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    issue = client.create_issue(fields=task("Old", labels=["a"]))

    issue.update(fields={"summary": "New", "customfield_10042": "returns", "priority": {"id": "1"}})
    issue.add_field_value("labels", "b")
    issue.update(update={"labels": [{"remove": "a"}], "components": [{"add": {"name": "Shipping"}}]})

    assert [p for p in paths(cloud) if p.startswith("PUT")] == ["PUT /rest/api/2/issue/10000"] * 3
    assert issue.fields.summary == "New"  # update() reloads the issue from its self URL
    assert issue.fields.labels == ["b"]
    assert issue.fields.priority.name == "Highest"
    assert [c.name for c in issue.fields.components] == ["Shipping"]
    assert cloud.issues["POL-1"]["fields"]["customfield_10042"] == "returns"

    with pytest.raises(JIRAError) as not_settable:
        issue.update(fields={"status": {"name": "Done"}})
    assert not_settable.value.status_code == 400 and "cannot be set" in not_settable.value.text
    with pytest.raises(JIRAError) as bare_list:
        issue.update(labels=["c"])  # the client turns a list into a bare `update` list, which Jira cannot parse
    assert bare_list.value.status_code == 400


# --- search --------------------------------------------------------------------------------------------------------


def test_cloud_search_by_label_uses_enhanced_search(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    wanted = client.create_issue(fields=task("Wanted", labels=["prb-aaaa"]))
    client.create_issue(fields=task("Other", labels=["prb-bbbb"]))

    found = client.search_issues('project = POL AND labels = "prb-aaaa"')

    assert [i.key for i in found] == [wanted.key]
    assert found[0].fields.summary == "Wanted"
    searches = [p for p in paths(cloud) if "/search" in p]
    assert searches == [
        "GET /rest/api/2/search/jql?jql=project+%3D+POL+AND+labels+%3D+%22prb-aaaa%22&fields=%2Aall&maxResults=50"
    ]
    assert "GET /rest/api/2/field" in paths(cloud)  # the client caches field names before its first search
    with pytest.raises(JIRAError, match="deprecated"):
        client.search_issues("project = POL", startAt=1)  # refused client-side on Cloud: no startAt paging


def test_server_search_by_label_uses_classic_search(server: JiraStandIn, connect: Connect) -> None:
    client = connect(server)
    wanted = client.create_issue(fields=task("Wanted", labels=["prb-aaaa"]))
    client.create_issue(fields=task("Other"))

    found = client.search_issues("labels = prb-aaaa")

    assert [i.key for i in found] == [wanted.key]
    assert found.total == 1
    searches = [p for p in paths(server) if "/search" in p]
    assert searches == [
        "GET /rest/api/2/search?jql=labels+%3D+prb-aaaa&startAt=0&validateQuery=True&fields=%2Aall&maxResults=50"
    ]
    posted = client.search_issues("labels = prb-aaaa", use_post=True)
    assert [i.key for i in posted] == [wanted.key]


def test_cloud_paging_follows_next_page_token(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    keys = [client.create_issue(fields=task(f"n{n}", labels=["batch"])).key for n in range(7)]
    jql = "labels = batch ORDER BY created ASC"

    first = client.enhanced_search_issues(jql, maxResults=3)
    second = client.enhanced_search_issues(jql, maxResults=3, nextPageToken=first.nextPageToken)
    third = client.enhanced_search_issues(jql, maxResults=3, nextPageToken=second.nextPageToken)

    assert [i.key for i in first + second + third] == keys
    assert third.nextPageToken is None
    cloud.max_results_cap = 3  # Jira caps page size server-side; fetch-all must then follow the tokens
    everything = client.search_issues(jql, maxResults=False)
    assert [i.key for i in everything] == keys
    assert sum("/search/jql" in p for p in paths(cloud)) == 3 + 3
    with pytest.raises(JIRAError) as foreign:
        client.enhanced_search_issues("labels = other", nextPageToken=first.nextPageToken)
    assert foreign.value.status_code == 400


def test_server_paging_uses_start_at(server: JiraStandIn, connect: Connect) -> None:
    client = connect(server)
    keys = [client.create_issue(fields=task(f"n{n}", labels=["batch"])).key for n in range(7)]
    server.max_results_cap = 3
    jql = "labels = batch ORDER BY key ASC"

    everything = client.search_issues(jql, maxResults=False)
    page = client.search_issues(jql, startAt=3, maxResults=3)

    assert [i.key for i in everything] == keys
    start_ats = [p.split("startAt=")[1].split("&")[0] for p in paths(server) if "/search?" in p]
    assert start_ats == ["0", "3", "6", "3"]
    assert [i.key for i in page] == keys[3:6] and page.total == 7


def test_cloud_client_without_server_info_falls_back_to_the_removed_search(
    cloud: JiraStandIn, connect: Connect
) -> None:
    # Without serverInfo the client cannot know it talks to Cloud, so search_issues takes the classic path.
    client = connect(cloud, get_server_info=False)

    with pytest.raises(JIRAError) as error:
        client.search_issues("project = POL")

    assert error.value.status_code == 410
    assert [p.split("?")[0] for p in paths(cloud)] == ["GET /rest/api/2/field", "GET /rest/api/2/search"]


def test_each_deployment_has_only_its_own_search_api(cloud: JiraStandIn, server: JiraStandIn) -> None:
    classic = requests.get(f"{cloud.url}/rest/api/2/search", params={"jql": "project = POL"}, auth=(EMAIL, TOKEN))
    enhanced = requests.get(
        f"{server.url}/rest/api/2/search/jql",
        params={"jql": "project = POL"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )

    assert classic.status_code == 410  # Atlassian removed the classic search from Cloud
    assert "CHANGE-2046" in classic.json()["errorMessages"][0]
    assert enhanced.status_code == 404  # Server/Data Center never had the enhanced one


def test_search_lag_hides_a_new_issue_for_n_searches(connect: Connect) -> None:
    with JiraStandIn(search_lag=2) as standin:
        client = connect(standin)
        issue = client.create_issue(fields=task("Fresh", labels=["prb-lag"]))

        assert client.issue(issue.key).key == issue.key  # get-by-key is consistent at once
        assert client.search_issues("labels = prb-lag") == []
        assert client.search_issues("labels = prb-lag") == []
        assert [i.key for i in client.search_issues("labels = prb-lag")] == [issue.key]

        other = client.create_issue(fields=task("Reconciled", labels=["prb-rec"]))
        assert client.search_issues("labels = prb-rec") == []
        reconciled = client.enhanced_search_issues("labels = prb-rec", reconcileIssues=[int(other.id)])
        assert [i.key for i in reconciled] == [other.key]  # Cloud's read-after-write escape hatch


def test_jql_subset(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    one = client.create_issue(fields=task("one", labels=["a"]))
    two = client.create_issue(fields=task("two", labels=["b"]))
    three = client.create_issue(fields=task("three", labels=["a", "c"]))
    cloud.set_status(three.key, "Done")

    def keys(jql: str) -> list[str]:
        return [i.key for i in client.search_issues(jql)]

    assert keys("labels in (a, b) ORDER BY key ASC") == [one.key, two.key, three.key]
    assert keys("labels = 'a' ORDER BY created DESC") == [three.key, one.key]
    assert keys(f"key in ({one.key}, {three.key}) ORDER BY key DESC") == [three.key, one.key]
    assert keys('project = POL AND status = "Done"') == [three.key]
    assert keys("status in ('To Do') AND labels = a") == [one.key]
    assert [i.raw["fields"] for i in client.search_issues("labels = b", fields="summary,labels")] == [
        {"summary": "two", "labels": ["b"]}
    ]
    assert client.search_issues("labels = b", fields="Policy section")[0].raw["fields"] == {
        "customfield_10042": None,
        "Policy section": None,  # the client aliases the clause name back onto the result
    }
    for jql, message in [
        ("labels = a OR labels = b", "only AND is supported"),
        ("summary ~ refund", "Field 'summary' is not supported"),
        ("labels != a", "Operator '!=' is not supported"),
        ("(labels = a)", "Parenthesised groups are not supported"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'"),
        ("status = Closed", "does not exist for the field 'status'"),
        ("labels = a ORDER BY updated", "Ordering by 'updated' is not supported"),
        ("ORDER BY key ASC", "Unbounded JQL queries are not allowed"),
    ]:
        with pytest.raises(JIRAError) as error:
            client.search_issues(jql)
        assert error.value.status_code == 400, jql
        assert message in error.value.text, jql


def test_parse_jql_shapes() -> None:
    query = parse_jql('project = POL AND labels in ("x y", z) AND key = pol-1 ORDER BY created DESC, key')

    assert [(c.field, c.values) for c in query.clauses] == [
        ("project", ("POL",)),
        ("labels", ("x y", "z")),
        ("key", ("pol-1",)),
    ]
    assert query.order == (("created", True), ("key", False))
    assert parse_jql("").clauses == ()


# --- comments, transitions, links ----------------------------------------------------------------------------------


def test_comments_add_and_list(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    issue = client.create_issue(fields=task("Discuss"))

    added = client.add_comment(issue, "[prb:1] first")
    client.add_comment(issue.key, "[prb:2] second")

    assert added.body == "[prb:1] first" and added.author.emailAddress == EMAIL
    assert [c.body for c in client.comments(issue.key)] == ["[prb:1] first", "[prb:2] second"]
    assert [c.body for c in client.comments(issue.key, start_at=1, max_results=1)] == ["[prb:2] second"]
    assert [c.body for c in client.comments(issue.key, order_by="-created")][0] == "[prb:2] second"
    assert client.issue(issue.key).fields.comment.total == 2
    assert [c["body"] for c in cloud.comments[issue.key]] == ["[prb:1] first", "[prb:2] second"]
    with pytest.raises(JIRAError) as empty:
        client.add_comment(issue, "  ")
    assert empty.value.status_code == 400


def test_transitions_follow_the_workflow(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    issue = client.create_issue(fields=task("Flow"))

    available = {t["name"]: t["id"] for t in client.transitions(issue)}
    assert available == {"In Progress": "21", "Accepted": "31", "Won't Do": "41", "Done": "51"}
    client.transition_issue(issue, "Accepted")  # by name: the client looks the id up first
    assert client.issue(issue.key).fields.status.name == "Accepted"
    assert [t["to"]["name"] for t in client.transitions(issue)] == ["In Progress", "Done", "Won't Do"]

    with pytest.raises(JIRAError) as refused:
        client.transition_issue(issue, "11")  # "To Do" is not reachable from Accepted
    assert refused.value.status_code == 400 and "not valid for this issue" in refused.value.text

    client.transition_issue(issue, "51", comment="closing as reviewed")
    done = client.issue(issue.key)
    assert done.fields.status.statusCategory.key == "done"
    assert done.fields.resolution.name == "Done" and done.fields.resolutiondate
    assert cloud.comments[issue.key][-1]["body"] == "closing as reviewed"
    assert [p for p in paths(cloud) if "transitions" in p].count("POST /rest/api/2/issue/POL-1/transitions") == 3


def test_custom_workflow(connect: Connect) -> None:
    with JiraStandIn(workflow={"Open": ["Closed"], "Closed": ["Open"]}) as standin:
        client = connect(standin)
        issue = client.create_issue(fields=task("Custom"))

        assert issue.fields.status.name == "Open"
        assert [t["name"] for t in client.transitions(issue)] == ["Closed"]
        client.transition_issue(issue, "Closed")
        assert client.issue(issue.key).fields.status.statusCategory.key == "done"


def test_set_status_is_visible_to_the_client(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    issue = client.create_issue(fields=task("Someone closes it"))

    cloud.set_status(issue.key, "Won't Do")

    seen = client.issue(issue.key)
    assert seen.fields.status.name == "Won't Do" and seen.fields.status.statusCategory.key == "done"
    assert seen.fields.resolution.name == "Won't Do"
    assert [t["name"] for t in client.transitions(issue)] == ["To Do"]
    cloud.set_status(issue.key, "To Do")
    assert client.issue(issue.key).fields.resolution is None
    with pytest.raises(ValueError):
        cloud.set_status(issue.key, "Limbo")


def test_remote_link_upserts_by_global_id(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    issue = client.create_issue(fields=task("Linked"))

    client.add_remote_link(issue.key, {"url": "https://bot/r/1", "title": "Review 1"}, globalId="reviewbot:review:1")
    client.add_remote_link(issue.key, {"url": "https://bot/r/1", "title": "Review 1 v2"}, globalId="reviewbot:review:1")

    links = client.remote_links(issue.key)
    assert len(links) == 1 and links[0].object.title == "Review 1 v2"
    assert links[0].globalId == "reviewbot:review:1"
    client.add_remote_link(issue.key, {"url": "https://bot/r/2", "title": "Review 2"}, globalId="reviewbot:review:2")
    assert len(cloud.remote_links[issue.key]) == 2
    # The client asks for application links before its first remote link only (it caches the answer).
    seen = [p for p in paths(cloud) if "remotelink" in p or "applinks" in p]
    assert seen == [
        "GET /rest/applinks/latest/listApplicationlinks",
        "POST /rest/api/2/issue/POL-1/remotelink",
        "POST /rest/api/2/issue/POL-1/remotelink",
        "GET /rest/api/2/issue/POL-1/remotelink",
        "POST /rest/api/2/issue/POL-1/remotelink",
    ]
    with pytest.raises(JIRAError) as untitled:
        client.add_remote_link(issue.key, {"url": "https://bot/r/3"})
    assert untitled.value.status_code == 400


def test_issue_link(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    keep = client.create_issue(fields=task("Keep"))
    dupe = client.create_issue(fields=task("Dupe"))

    response = client.create_issue_link("Duplicate", dupe.key, keep.key)

    assert response.status_code == 201
    assert cloud.links == [{"id": "10000", "type": "Duplicate", "inward": dupe.key, "outward": keep.key}]
    dupe_link = client.issue(dupe.key).fields.issuelinks[0]
    keep_link = client.issue(keep.key).fields.issuelinks[0]
    assert dupe_link.type.name == "Duplicate" and dupe_link.outwardIssue.key == keep.key
    assert keep_link.inwardIssue.key == dupe.key
    assert paths(cloud)[-4:-2] == ["GET /rest/api/2/issueLinkType", "POST /rest/api/2/issueLink"]
    with pytest.raises(JIRAError) as unknown:
        client.create_issue_link("Mirrors", dupe.key, keep.key)
    assert unknown.value.status_code == 404


# --- auth ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", ["Cloud", "Server"])
def test_wrong_token_is_401(deployment: str, connect: Connect) -> None:
    with JiraStandIn(deployment=deployment) as standin:  # type: ignore[arg-type]
        with pytest.raises(JIRAError) as at_construction:
            connect(standin, token="wrong")  # JIRA() already calls serverInfo
        assert at_construction.value.status_code == 401
        assert "not authenticated" in at_construction.value.text

        client = connect(standin, token="wrong", get_server_info=False)
        with pytest.raises(JIRAError) as later:
            client.myself()
        assert later.value.status_code == 401

        anonymous = requests.get(f"{standin.url}/rest/api/2/issue/POL-1")
        assert anonymous.status_code == 401 and anonymous.json()["errorMessages"]
        # Cloud wants Basic (email, API token); a bearer token there is as wrong as Basic on Server.
        other_scheme = (
            {"headers": {"Authorization": f"Bearer {TOKEN}"}} if deployment == "Cloud" else {"auth": (EMAIL, TOKEN)}
        )
        assert requests.get(f"{standin.url}/rest/api/2/myself", **other_scheme).status_code == 401


# --- faults --------------------------------------------------------------------------------------------------------


def test_429_without_retries_raises_with_retry_after(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    cloud.faults.append(Fault("POST", CREATE, "429", retry_after=7))

    with pytest.raises(JIRAError) as error:
        client.create_issue(fields=task("Limited"))

    assert error.value.status_code == 429
    headers = error.value.response.headers
    assert headers["Retry-After"] == "7"
    assert headers["X-RateLimit-Remaining"] == "0" and "X-RateLimit-Limit" in headers
    assert cloud.issues == {} and cloud.faults == []  # not processed; the fault is used up
    assert client.create_issue(fields=task("Later")).key == "POL-1"


def test_429_is_retried_once_and_succeeds(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud, max_retries=1)
    # ResilientSession sleeps min(max_retry_delay, 2 * Retry-After) * U(0.5, 1); cap it so the test stays fast.
    client._session.max_retry_delay = 0.2  # type: ignore[assignment]
    cloud.faults.append(Fault("POST", CREATE, "429", retry_after=1))

    started = time.monotonic()
    issue = client.create_issue(fields=task("Retried"))

    assert time.monotonic() - started < 1
    assert issue.key == "POL-1" and len(cloud.issues) == 1
    assert cloud.created() == 2


def test_resilient_session_waits_as_retry_after_says(
    cloud: JiraStandIn, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    # Swap only the client module's `time` (it uses nothing but time.sleep), not the global module every thread uses.
    monkeypatch.setattr(jira.resilientsession, "time", SimpleNamespace(sleep=slept.append))
    client = connect(cloud, max_retries=2)
    cloud.faults.append(Fault("POST", CREATE, "429", retry_after=3))
    cloud.faults.append(Fault("GET", r"/issue/POL-1$", "503", retry_after=2))

    client.create_issue(fields=task("Patient"))

    assert len(slept) == 2
    assert 3 <= slept[0] <= 6 and 2 <= slept[1] <= 4  # 2 * Retry-After * U(0.5, 1)


def test_503_raises_without_retries(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    cloud.faults.append(Fault("*", r"/rest/api/2/myself$", "503", retry_after=2, times=2))

    for _ in range(2):
        with pytest.raises(JIRAError) as error:
            client.myself()
        assert error.value.status_code == 503 and error.value.response.headers["Retry-After"] == "2"
    assert client.myself()["emailAddress"] == EMAIL


def test_drop_before_raises_connection_error_and_creates_nothing(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    cloud.faults.append(Fault("POST", CREATE, "drop_before"))

    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        client.create_issue(fields=task("Lost"))

    assert time.monotonic() - started < 1  # the socket is closed properly: no hang until the timeout
    assert cloud.issues == {} and cloud.created() == 1
    assert client.create_issue(fields=task("Next")).key == "POL-1"


def test_drop_after_write_raises_yet_the_issue_exists(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    cloud.faults.append(Fault("POST", CREATE, "drop_after_write"))

    with pytest.raises(requests.ConnectionError):
        client.create_issue(fields=task("Ghost", labels=["prb-ghost"]))

    assert list(cloud.issues) == ["POL-1"]  # the write happened although the client saw an error
    assert [i.key for i in client.search_issues("labels = prb-ghost")] == ["POL-1"]  # how reviewbot can adopt it


def test_drop_after_write_with_client_retries_makes_a_duplicate(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud, max_retries=1)
    client._session.max_retry_delay = 0.01  # type: ignore[assignment]
    cloud.faults.append(Fault("POST", CREATE, "drop_after_write"))

    client.create_issue(fields=task("Twice", labels=["prb-twice"]))

    assert [i.key for i in client.search_issues("labels = prb-twice ORDER BY key ASC")] == ["POL-1", "POL-2"]


def test_faults_match_method_and_path_and_wear_out(cloud: JiraStandIn, connect: Connect) -> None:
    client = connect(cloud)
    issue = client.create_issue(fields=task("Target"))
    cloud.faults.append(Fault("GET", r"/rest/api/2/issue/[^/]+$", "503", times=2))

    client.add_comment(issue, "POST to another path is unaffected")
    for _ in range(2):
        with pytest.raises(JIRAError):
            client.issue(issue.key)

    assert client.issue(issue.key).key == issue.key
    assert cloud.faults == []


def test_fault_definitions_are_checked_up_front() -> None:
    with pytest.raises(ValueError):
        Fault("POST", CREATE, "418")
    with pytest.raises(ValueError):
        Fault("POST", CREATE, "429", times=0)


# --- lifecycle -----------------------------------------------------------------------------------------------------


def test_stop_joins_the_thread_and_cuts_connections(connect: Connect) -> None:
    standin = JiraStandIn().start()
    client = connect(standin)  # holds a keep-alive connection to the stand-in
    client.myself()
    thread = standin.thread
    assert thread is not None and thread.is_alive()

    started = time.monotonic()
    standin.stop()

    assert time.monotonic() - started < 1
    assert not thread.is_alive()
    with pytest.raises(requests.ConnectionError):
        client.myself()
    standin.stop()  # stopping twice is harmless
    with pytest.raises(RuntimeError):
        standin.start()  # stored self URLs name the old port, so no restart
    with pytest.raises(RuntimeError):
        _ = JiraStandIn().url  # never started


def test_two_standins_run_side_by_side(connect: Connect) -> None:
    with JiraStandIn() as first, JiraStandIn(deployment="Server", project="OPS") as second:
        assert first.url != second.url
        connect(first).create_issue(fields=task("In POL"))
        in_ops = connect(second).create_issue(fields={**task("In OPS"), "project": {"key": "OPS"}})

        assert list(first.issues) == ["POL-1"] and list(second.issues) == ["OPS-1"]
        assert in_ops.fields.project.key == "OPS"


# --- what the Jira fault and state tests rely on ----------------------------------------------------------------


def test_any_status_can_be_injected_and_a_write_can_be_applied_before_the_error(
    cloud: JiraStandIn, connect: Connect
) -> None:
    client = connect(cloud)
    cloud.faults.append(Fault("GET", r"/rest/api/2/issue/[^/]+$", "404"))
    issue = client.create_issue(fields=task("Fresh"), prefetch=False)
    with pytest.raises(JIRAError) as missing:
        client.issue(issue.key)
    assert missing.value.status_code == 404 and client.issue(issue.key).key == issue.key

    cloud.faults.append(Fault("POST", CREATE, "status_after_write:504"))
    with pytest.raises(JIRAError) as gateway:
        client.create_issue(fields=task("Applied"), prefetch=False)
    assert gateway.value.status_code == 504 and len(cloud.issues) == 2  # Jira did it; the answer was lost


def test_search_lag_in_seconds_hides_a_new_issue_until_it_has_passed(connect: Connect) -> None:
    import time_machine

    with JiraStandIn(search_lag_seconds=30) as standin, time_machine.travel(0, tick=False) as clock:
        client = connect(standin)
        issue = client.create_issue(fields=task("Fresh", labels=["prb-lag"]), prefetch=False)
        clock.shift(29)
        assert client.search_issues("labels = prb-lag") == []
        clock.shift(2)
        assert [i.key for i in client.search_issues("labels = prb-lag")] == [issue.key]


@pytest.mark.parametrize("deployment", ["Cloud", "Server"])
def test_users_are_found_by_search_and_assigned(deployment: str, connect: Connect) -> None:
    with JiraStandIn(deployment=deployment) as standin:  # type: ignore[arg-type]
        client = connect(standin)
        [dana] = (
            client.search_users(query="dana@example.com") if deployment == "Cloud" else client.search_users(user="dana")
        )
        issue = client.create_issue(fields=task("Fresh"), prefetch=False)
        key = {"accountId": dana.accountId} if deployment == "Cloud" else {"name": dana.name}
        client.issue(issue.key).update(fields={"assignee": key})
        assert standin.assignee(issue.key) == "dana"
        standin.set_assignee(issue.key, "maria")
        assert client.issue(issue.key, fields="assignee").fields.assignee.displayName == "Maria Lopez"


def test_resolution_and_components_behave_as_configured(connect: Connect) -> None:
    with JiraStandIn(resolution_on_done=False, transition_screen=False) as standin:
        client = connect(standin)
        issue = client.create_issue(fields=task("Fresh"), prefetch=False)
        done = next(t["id"] for t in client.transitions(issue.key) if t["name"] == "Done")
        with pytest.raises(JIRAError) as refused:
            client.transition_issue(issue.key, done, fields={"resolution": {"name": "Done"}})
        assert refused.value.status_code == 400 and "resolution" in refused.value.text  # no screen: refused
        client.transition_issue(issue.key, done)
        assert standin.issues[issue.key]["fields"]["resolution"] is None  # no post function sets one
        client.create_component("delivery", "POL")
        assert "delivery" in [c.name for c in client.project_components("POL")]
        with pytest.raises(JIRAError):
            client.create_component("Delivery", "POL")  # names are unique regardless of case
