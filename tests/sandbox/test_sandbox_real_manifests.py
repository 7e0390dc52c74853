"""Manifests shaped like real public OpenAPI documents, every operation run through the client against a
target on 127.0.0.1: valid calls reach the target as built, invalid ones get a 400 naming the parameter,
and the same client's next call succeeds. Documents the validator cannot handle are refused when they
are registered, with the reason.

The documents (tests/sandbox/manifests/) are ours, in the shape of a 3.0 pet shop and a 3.1 code
host with billing: int64 ids in paths and queries, int32 limits, date-time, date, uuid, email, uri,
byte, enums, nullable fields, boolean and numeric exclusive bounds, required JSON bodies, header
parameters, shared parameters and schemas behind ``$ref``.
"""

from __future__ import annotations

import collections
import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from truebit_facade import BadRequestError, Truebit
from truebit_facade.sandbox import Manifest, Sandbox, SandboxConfig, TaskRegistry
from truebit_facade.sandbox._serving import ThreadedServer

MANIFESTS = Path(__file__).parent / "manifests"
NS = "realapis"
SEEN_HEADERS = ("api_key", "idempotency-key", "x-request-id", "x-api-version", "content-type")


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


class Target:
    """Answers every path with 200 and a JSON object; keeps what it received."""

    def __init__(self) -> None:
        self.seen: collections.deque[Seen] = collections.deque(maxlen=100)

        async def echo(request: Request) -> JSONResponse:
            raw = await request.body()
            self.seen.append(
                Seen(
                    request.method,
                    request.scope["raw_path"].decode("ascii"),
                    parse_qsl(request.scope["query_string"].decode("ascii"), keep_blank_values=True),
                    {k: v for k, v in request.headers.items() if k in SEEN_HEADERS},
                    json.loads(raw) if raw else None,
                )
            )
            return JSONResponse({"ok": True, "method": request.method})

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        self.app = Starlette(routes=[Route("/{path:path}", echo, methods=methods)])
        self.server = ThreadedServer("127.0.0.1", 0, "warning", graceful_seconds=1)


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    served = Target()
    served.server.start(served.app, "real-manifests-target")
    try:
        yield served
    finally:
        served.server.stop()


def _document(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((MANIFESTS / name).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def sandbox(target: Target) -> Iterator[Sandbox]:
    registry = TaskRegistry()
    # The 3.0 document's base has a path (/api/v3), as real ones do.
    registry.add_api_task(
        NS, "petshop", MANIFESTS / "petstore-3.0.json", base_url=target.server.url + "/api/v3"
    )
    registry.add_api_task(NS, "codehost", MANIFESTS / "codehost-3.1.json", base_url=target.server.url)
    with Sandbox(SandboxConfig(hold_seconds=10.0), registry) as served:
        yield served


@pytest.fixture(scope="module")
def tb(sandbox: Sandbox) -> Iterator[Truebit]:
    with Truebit(api_key=sandbox.api_key, base_url=sandbox.url) as client:
        yield client


@dataclass(frozen=True)
class Call:
    op: str  # the operationId it exercises
    path: str
    method: str = "GET"
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    # what the target must receive: the raw path and the query pairs
    sent_path: str | None = None
    sent_query: list[tuple[str, str]] | None = None

    def kwargs(self) -> dict[str, Any]:
        given: dict[str, Any] = {"path": self.path, "method": self.method, "params": self.params}
        if self.headers:
            given["headers"] = self.headers
        if self.body is not None:
            given["body"] = self.body
        return given


PET = {"name": "doggie", "photoUrls": ["https://img.example.com/dog.png"], "status": "available"}
ORDER = {"petId": 198772, "quantity": 7, "shipDate": "2024-05-01T12:30:00Z", "status": "placed"}
KEY = str(uuid.UUID(int=0x1234))
CUSTOMER = {"email": "jenny.rosen@example.com"}

VALID: dict[str, list[Call]] = {
    "petshop": [
        Call(
            "addPet",
            "/pet",
            "POST",
            body={**PET, "category": None, "tags": [{"id": 1, "name": "good"}]},  # id is readOnly
            sent_path="/api/v3/pet",
        ),
        Call("updatePet", "/pet", "PUT", body={**PET, "id": 10, "category": {"id": 2, "name": "Dogs"}}),
        Call(
            "findPetsByStatus",
            "/pet/findByStatus",
            params={"status": ["available", "sold"], "limit": 50},
            sent_query=[("status", "available"), ("status", "sold"), ("limit", "50")],
        ),
        Call(
            "getPetById",
            "/pet/{petId}",
            params={"petId": 9007199254740993},  # past 2**53: exact as an int64 must be
            sent_path="/api/v3/pet/9007199254740993",
        ),
        Call(
            "deletePet", "/pet/{petId}", "DELETE", params={"petId": "12"}, headers={"api_key": "special-key"}
        ),
        Call(
            "uploadFile",
            "/pet/{petId}/uploadImage",
            "POST",
            params={"petId": 1, "additionalMetadata": "front"},
            body={"file": "aGVsbG8gd29ybGQ=", "fileName": "anything goes: binary is not checked"},
        ),
        Call(
            "placeOrder",
            "/store/order",
            "POST",
            body={**ORDER, "price": 9.5, "complete": False, "coupon": None},
        ),
        Call("getOrderById", "/store/order/10", sent_path="/api/v3/store/order/10"),
        Call("loginUser", "/user/login", params={"username": "user1", "password": "p@ss word"}),
        Call(
            "updateUser",
            "/user/{username}",
            "PUT",
            params={"username": "a/b"},
            body={"email": "a@example.com", "birthday": "1990-01-31", "userStatus": 1},
            sent_path="/api/v3/user/a%2Fb",
        ),
    ],
    "codehost": [
        Call(
            "issues/list-for-repo",
            "/repos/{owner}/{repo}/issues",
            params={
                "owner": "octo-org",
                "repo": "hello.world",
                "state": "open",
                "since": "2024-01-01T00:00:00+02:00",
                "per_page": 100,
                "page": "2",
            },
            headers={"X-Api-Version": "2022-11-28"},
            sent_path="/repos/octo-org/hello.world/issues",
        ),
        Call(
            "issues/create",
            "/repos/{owner}/{repo}/issues",
            "POST",
            params={"owner": "octo", "repo": "x"},
            body={
                "title": "Found a bug",
                "body": None,
                "milestone": 3,
                "labels": ["bug"],
                "due_on": "2024-12-31",
            },
        ),
        Call("issues/get", "/repos/octo/x/issues/1347", sent_path="/repos/octo/x/issues/1347"),
        Call(
            "issues/update",
            "/repos/{owner}/{repo}/issues/{issue_number}",
            "PATCH",
            params={"owner": "octo", "repo": "x", "issue_number": "42"},
            body={"state": "closed", "state_reason": None},
        ),
        Call(
            "GetCustomers",
            "/v1/customers",
            params={"email": "jenny.rosen@example.com", "limit": 10, "created_after": 1700000000},
            sent_query=[
                ("email", "jenny.rosen@example.com"),
                ("limit", "10"),
                ("created_after", "1700000000"),
            ],
        ),
        Call(
            "PostCustomers",
            "/v1/customers",
            "POST",
            headers={"Idempotency-Key": KEY},
            body={
                **CUSTOMER,
                "name": "Jenny Rosen",
                "balance": -(2**62),
                "address": {"city": None, "country": "DE"},
                "metadata": {"order_id": "6735"},
                "tax_id": KEY,
                "website": "https://example.com/jenny",
                "avatar": "aGk=",
                "credit_limit": 12.5,
            },
        ),
        Call(
            "GetCustomersCustomer",
            "/v1/customers/{customer}",
            params={"customer": "cus_NffrFeUfNV2Hib"},
            headers={"X-Request-Id": KEY},
        ),
    ],
}

# (task, the call, the name the 400 must carry)
INVALID: list[tuple[str, Call, str]] = [
    ("petshop", Call("getPetById", "/pet/{petId}", params={"petId": 2**63}), "'petId'"),  # past int64
    ("petshop", Call("getPetById", "/pet/{petId}", params={"petId": "abc"}), "'petId'"),
    ("petshop", Call("getPetById", "/pet/1.5"), "'petId'"),
    ("petshop", Call("findPetsByStatus", "/pet/findByStatus", params={"status": ["lost"]}), "'status'"),
    ("petshop", Call("findPetsByStatus", "/pet/findByStatus", params={"limit": 5}), "'status'"),  # required
    ("petshop", Call("findPetsByStatus", "/pet/findByStatus", params={"status": ["sold"], "limit": 2**31}), "'limit'"),
    ("petshop", Call("findPetsByStatus", "/pet/findByStatus", params={"status": ["sold"], "limit": 0}), "'limit'"),
    ("petshop", Call("getOrderById", "/store/order/0"), "'orderId'"),  # 3.0's boolean exclusiveMinimum
    ("petshop", Call("getOrderById", "/store/order/11"), "'orderId'"),
    ("petshop", Call("deletePet", "/pet/{petId}", "DELETE", params={"petId": 1}), "'api_key'"),
    ("petshop", Call("deletePet", "/pet/1", "DELETE", headers={"api_key": "short"}), "'api_key'"),
    ("petshop", Call("addPet", "/pet", "POST"), "input.body"),
    ("petshop", Call("addPet", "/pet", "POST", body={"name": "doggie"}), "'photoUrls'"),
    ("petshop", Call("addPet", "/pet", "POST", body={**PET, "photoUrls": ["not a uri"]}), "input.body.photoUrls[0]"),
    ("petshop", Call("addPet", "/pet", "POST", body={**PET, "status": "lost"}), "input.body.status"),
    ("petshop", Call("addPet", "/pet", "POST", body={**PET, "tags": [{"id": 2**63}]}), "input.body.tags[0].id"),
    ("petshop", Call("placeOrder", "/store/order", "POST", body={**ORDER, "shipDate": "tomorrow"}), "input.body.shipDate"),
    ("petshop", Call("placeOrder", "/store/order", "POST", body={**ORDER, "quantity": 2**31}), "input.body.quantity"),
    ("petshop", Call("placeOrder", "/store/order", "POST", body={**ORDER, "price": 1e39}), "input.body.price"),
    ("petshop", Call("placeOrder", "/store/order", "POST", body={**ORDER, "coupon": "abc"}), "input.body.coupon"),
    ("petshop", Call("placeOrder", "/store/order", "POST", body={**ORDER, "complete": None}), "input.body.complete"),
    ("petshop", Call("uploadFile", "/pet/1/uploadImage", "POST", body={"file": "not base64!"}), "input.body.file"),
    ("petshop", Call("updateUser", "/user/u", "PUT", body={"email": "nope"}), "input.body.email"),
    ("petshop", Call("updateUser", "/user/u", "PUT", body={"birthday": "1990-02-31"}), "input.body.birthday"),
    ("codehost", Call("issues/list-for-repo", "/repos/{owner}/{repo}/issues", params={"owner": "bad owner!", "repo": "x"}), "'owner'"),
    ("codehost", Call("issues/list-for-repo", "/repos/o/x/issues", params={"since": "2024-13-01T00:00:00Z"}), "'since'"),
    ("codehost", Call("issues/list-for-repo", "/repos/o/x/issues", params={"per_page": 101}), "'per_page'"),
    ("codehost", Call("issues/list-for-repo", "/repos/o/x/issues", params={"per_page": "ten"}), "'per_page'"),
    ("codehost", Call("issues/list-for-repo", "/repos/o/x/issues", params={"state": "merged"}), "'state'"),
    ("codehost", Call("issues/list-for-repo", "/repos/o/x/issues", headers={"X-Api-Version": "2023-01-01"}), "'X-Api-Version'"),
    ("codehost", Call("issues/get", "/repos/o/x/issues/0"), "'issue_number'"),
    ("codehost", Call("issues/get", "/repos/o/x/issues/9223372036854775808"), "'issue_number'"),
    ("codehost", Call("issues/create", "/repos/o/x/issues", "POST", body={}), "'title'"),
    ("codehost", Call("issues/create", "/repos/o/x/issues", "POST", body={"title": "t", "extra": 1}), "'extra'"),
    ("codehost", Call("issues/create", "/repos/o/x/issues", "POST", body={"title": "t", "milestone": 2**31}), "input.body.milestone"),
    ("codehost", Call("issues/create", "/repos/o/x/issues", "POST", body={"title": "t", "labels": ["a", "a"]}), "input.body.labels"),
    ("codehost", Call("issues/update", "/repos/o/x/issues/1", "PATCH", body={"state_reason": "done"}), "input.body.state_reason"),
    ("codehost", Call("GetCustomers", "/v1/customers", params={"email": "not-an-email"}), "'email'"),
    ("codehost", Call("GetCustomers", "/v1/customers", params={"created_after": 2**63}), "'created_after'"),
    ("codehost", Call("GetCustomers", "/v1/customers", params={"limit": [1, 2]}), "'limit'"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", body=CUSTOMER), "'Idempotency-Key'"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", headers={"Idempotency-Key": "123"}, body=CUSTOMER), "'Idempotency-Key'"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", headers={"Idempotency-Key": KEY}, body={"email": "x"}), "input.body.email"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", headers={"Idempotency-Key": KEY}, body={**CUSTOMER, "tax_id": "nope"}), "input.body.tax_id"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", headers={"Idempotency-Key": KEY}, body={**CUSTOMER, "avatar": "%%%"}), "input.body.avatar"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", headers={"Idempotency-Key": KEY}, body={**CUSTOMER, "credit_limit": 0}), "input.body.credit_limit"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", headers={"Idempotency-Key": KEY}, body={**CUSTOMER, "website": "no scheme"}), "input.body.website"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", headers={"Idempotency-Key": KEY}, body={**CUSTOMER, "balance": 2**63}), "input.body.balance"),
    ("codehost", Call("PostCustomers", "/v1/customers", "POST", headers={"Idempotency-Key": KEY}, body={**CUSTOMER, "address": {"country": "DEU"}}), "input.body.address"),
    ("codehost", Call("GetCustomersCustomer", "/v1/customers/cus_!"), "'customer'"),
    ("codehost", Call("GetCustomersCustomer", "/v1/customers/cus_1", headers={"X-Request-Id": "x"}), "'X-Request-Id'"),
]  # fmt: skip


def _operation_ids(document: dict[str, Any]) -> set[str]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {
        op["operationId"] for item in document["paths"].values() for m, op in item.items() if m in methods
    }


@pytest.mark.parametrize(
    ("task", "document"), [("petshop", "petstore-3.0.json"), ("codehost", "codehost-3.1.json")]
)
def test_every_operation_of_the_documents_is_exercised(task: str, document: str) -> None:
    ops = _operation_ids(_document(document))
    assert {call.op for call in VALID[task]} == ops
    assert {call.op for name, call, _ in INVALID if name == task} <= ops


@pytest.mark.parametrize(
    ("task", "call"), [(task, c) for task, calls in VALID.items() for c in calls], ids=repr
)
def test_a_valid_call_reaches_the_target_as_built(tb: Truebit, target: Target, task: str, call: Call) -> None:
    result = tb.api_tasks.run(NS, task, **call.kwargs())
    assert result.output == {"ok": True, "method": call.method}
    seen = target.seen[-1]
    assert seen.method == call.method
    if call.sent_path is not None:
        assert seen.path == call.sent_path
    if call.sent_query is not None:
        assert seen.query == call.sent_query
    assert seen.body == call.body
    for name, value in call.headers.items():
        assert seen.headers[name.lower()] == value


@pytest.mark.parametrize(
    ("task", "call", "named"),
    [pytest.param(*case, id=f"{case[0]}:{case[1].op}:{case[2]}") for case in INVALID],
)
def test_an_invalid_call_is_a_400_naming_the_parameter_and_the_next_call_succeeds(
    tb: Truebit, target: Target, task: str, call: Call, named: str
) -> None:
    before = len(target.seen)
    with pytest.raises(BadRequestError) as caught:
        tb.api_tasks.run(NS, task, **call.kwargs())
    assert caught.value.status_code == 400
    assert named in str(caught.value), str(caught.value)
    assert len(target.seen) == before  # nothing was sent
    follow = VALID[task][0]
    assert tb.api_tasks.run(NS, task, **follow.kwargs()).output == {"ok": True, "method": follow.method}


# --- what the validator cannot handle: refused at registration, with the reason ---------------------


def _broken(document: str, edit: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_document(document))
    edit(doc)
    return doc


def _set(path: list[Any], value: Any) -> Any:
    def edit(doc: dict[str, Any]) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


PET_ID = ["components", "parameters", "petId"]
REFUSED = [
    ("petstore-3.0.json", _set([*PET_ID, "schema"], {"$ref": "#/components/schemas/Nowhere"}), "points nowhere"),
    ("petstore-3.0.json", _set([*PET_ID, "schema"], {"$ref": "common.json#/Id"}), "only local \\$ref"),
    ("petstore-3.0.json", _set([*PET_ID, "schema"], {"type": "integer", "minimum": "one"}), "not a valid OpenAPI 3.0 schema"),
    # a 3.1 spelling in a 3.0 document: the 3.0 validator fails on a type list, so it is refused now
    ("petstore-3.0.json", _set([*PET_ID, "schema"], {"type": ["integer", "null"]}), "cannot be used by the validator"),
    ("petstore-3.0.json", _set(["components", "schemas", "Tag"], {"$ref": "#/components/schemas/Tag"}), "cycle"),
    ("petstore-3.0.json", _set(["paths", "/pet/{petId}", "parameters"], [{"$ref": "#/components/parameters/x"}]), "points nowhere"),
    ("codehost-3.1.json", _set(["components", "schemas", "address", "properties", "country", "pattern"], "(["), "not a valid OpenAPI 3.1 schema"),
    ("codehost-3.1.json", _set(["components", "schemas", "issue"], {"$ref": "#/components/schemas/missing"}), None),
    ("codehost-3.1.json", _set(["openapi"], "3.2.0"), "OpenAPI 3.0 or 3.1"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "edit", "reason"), REFUSED)
def test_a_manifest_the_validator_cannot_handle_is_refused_at_registration(
    document: str, edit: Any, reason: str | None, tmp_path: Path
) -> None:
    broken = _broken(document, edit)
    registry = TaskRegistry()
    if reason is None:  # a broken schema no operation uses (a response's) does not stop the task
        registry.add_api_task(NS, "t", broken, base_url="http://127.0.0.1:9")
        return
    with pytest.raises(ValueError, match=reason):
        registry.add_api_task(NS, "t", broken, base_url="http://127.0.0.1:9")
    # the tasks file loader refuses it too, naming the file, the task and the reason
    (tmp_path / "broken.json").write_text(json.dumps(broken), encoding="utf-8")
    tasks = tmp_path / "tasks.toml"
    tasks.write_text(f'[[task]]\nkind = "api"\nnamespace = "{NS}"\nname = "t"\nmanifest = "broken.json"\n')
    with pytest.raises(ValueError, match=rf"tasks\.toml: task 0 \({NS}/t\): .*{reason}"):
        TaskRegistry().load_tasks_file(tasks)
    assert registry.tasks() == []


def test_the_documents_load_as_they_are() -> None:
    for name, version in (("petstore-3.0.json", "3.0"), ("codehost-3.1.json", "3.1")):
        manifest = Manifest(MANIFESTS / name)
        assert manifest.version == version
        assert {
            op.operation_id for ops in manifest.operations.values() for op in ops.values()
        } == _operation_ids(_document(name))


# --- the app's boundary -------------------------------------------------------------------------------


def test_an_unexpected_error_answers_the_documented_500_and_keeps_the_connection(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher = sandbox.app.state.dispatcher
    real = dispatcher.status_answer

    def status(execution_id: str, kind: str) -> Any:
        if execution_id == "boom":
            raise RuntimeError("a bug of the sandbox")
        return real(execution_id, kind)

    monkeypatch.setattr(dispatcher, "status_answer", status)
    ports = set()
    with httpx.Client(base_url=sandbox.url) as client:
        answers = []
        for execution_id in ("unknown", "boom", "unknown"):
            answer = client.get(f"/task/api/execution-status/{execution_id}")
            ports.add(answer.extensions["network_stream"].get_extra_info("client_addr"))
            answers.append(answer)
    first, broken, after = answers
    assert first.status_code == 404 and after.status_code == 404
    assert broken.status_code == 500
    assert broken.json() == {"message": "internal error: RuntimeError"}
    assert "a bug of the sandbox" not in broken.text
    assert len(ports) == 1  # the same connection carried all three: the error did not close it
    assert any("unexpected error" in r.getMessage() for r in caplog.records)
