"""/suggest and tier-1 /search through the API Gateway emulation, over fakes."""

import json

import pytest

from musicboxd import metric_names as m
from musicboxd import wiring
from musicboxd.models import SearchPage
from musicboxd.services.catalog import search_key
from musicboxd.services.memory_telemetry import CountingTelemetry
from musicboxd.services.tier1 import Tier1Holder, rebuild_index
from tests.fakes import FakeClock, FakeContainer, make_album
from tests.unit.test_tier1 import ListSource, MemoryIndexStore, MemorySweepStore, sweep_pages
from tools.localstack.apigw import Gateway

GOLDS = [make_album(f"G{i:021d}", name="Gold") for i in range(6)]
OTHERS = [make_album(f"O{i:021d}", name=f"Other {i}") for i in range(6)]


class Tier1Container(FakeContainer):
    def __init__(self):
        clock = FakeClock()
        store = MemoryIndexStore()
        swept = [a.summary() for a in (make_album(), *GOLDS)]  # Spotify's order known for these, not for OTHERS
        rebuild_index(ListSource([make_album(), *GOLDS, *OTHERS], clock), store,
                      sweeps=MemorySweepStore(sweep_pages(swept)), clock=clock)  # fmt: skip
        super().__init__(
            [make_album(), *GOLDS, *OTHERS],
            clock=clock,
            tier1=Tier1Holder(store, recheck_seconds=300, clock=clock),
            telemetry=CountingTelemetry(),
        )
        self.store = store


@pytest.fixture
def api():
    fake = Tier1Container()
    wiring.set_container(fake)
    gateway = Gateway()

    def call(path):
        status, headers, body = gateway.invoke("GET", path, {"Host": "localhost"}, b"")
        return status, headers, json.loads(body)

    yield call, fake
    wiring.set_container(None)


def test_suggest_answers_from_the_index_only(api):
    call, fake = api
    status, headers, body = call("/suggest?q=%20Homo")
    assert status == 200 and headers["X-Cache"] == "HIT"
    assert body["query"] == "Homo" and body["limit"] == 5 and body["source"] == "index"
    assert body["suggestions"][0] == {
        "type": "album",
        "id": make_album().id,
        "name": "Homogenic",
        "artist_name": "Björk",
        "image_url": None,
        "spotify_url": None,  # the fake album has no link; Spotify's always do (tests/integration/test_attribution.py)
    }
    status, _, body = call("/suggest?q=bj%C3%B6&limit=2")
    assert [s["type"] for s in body["suggestions"]] == ["artist", "album"]
    assert fake.catalog.calls == []


@pytest.mark.parametrize(
    "query",
    [
        "/suggest",
        "/suggest?q=",
        "/suggest?q=%20",
        "/suggest?q=" + "a" * 201,
        "/suggest?q=x&limit=0",
        "/suggest?q=x&limit=11",
        "/suggest?q=%E2%80%8B",
    ],
)
def test_bad_suggest_input_is_a_400_envelope(api, query):
    call, fake = api
    status, _, body = call(query)
    assert status == 400 and set(body) == {"error"} and body["error"]["status"] == 400
    assert fake.catalog.calls == []


def test_confident_search_is_answered_by_the_index_without_spotify(api):
    call, fake = api
    status, headers, body = call("/search?q=GOLD&limit=5")
    assert status == 200 and headers["X-Cache"] == "HIT" and body["source"] == "popular"
    assert [a["id"] for a in body["albums"]] == [a.id for a in GOLDS[:5]]  # the sweep's order
    assert fake.catalog.calls == [] and fake.telemetry.counts[m.CACHE_HIT_POPULAR] == 1


def test_non_confident_search_falls_through_to_spotify(api):
    call, fake = api
    status, headers, body = call("/search?q=other&limit=5")  # six matches whose popularity order is unknown
    assert headers["X-Cache"] == "MISS" and body["source"] == "spotify"
    status, headers, body = call("/search?q=other&limit=5&offset=5")  # nor its later pages
    assert body["source"] == "cache"  # from Spotify's block the first page fetched
    assert [c[0] for c in fake.catalog.calls] == ["search"]


def test_every_page_of_a_confident_query_is_cut_from_the_index_list(api):
    call, fake = api
    walked, totals, path = [], set(), "/search?q=gold&limit=4"
    while path is not None:
        status, _, body = call(path)
        assert status == 200 and body["source"] == "popular"
        walked += [a["id"] for a in body["albums"]]
        totals.add(body["total"])
        path = None if body["next"] is None else "/search" + body["next"]
    assert body["last_page"] and body["prev"] == "?q=gold&limit=4&offset=0"
    assert totals == {6} and walked == [a.id for a in GOLDS]  # one total, no repeats, the sweep's order
    assert fake.catalog.calls == []


def test_a_query_whose_first_block_is_cached_stays_spotifys_list_on_every_page(api):
    call, fake = api
    spotify_order = [a.summary() for a in reversed(GOLDS)] + [a.summary() for a in OTHERS]
    block = 10  # SearchService.block_size (Development Mode): Spotify's first block, as a search wrote it
    fake.cache.put_search(search_key("US", "gold", offset=0, limit=block),
                          SearchPage(items=spotify_order[:block], total=40), ttl_seconds=100)  # fmt: skip
    _, _, first = call("/search?q=gold&limit=4")
    _, _, second = call("/search?q=gold&limit=4&offset=4")
    assert {first["source"], second["source"]} == {"cache"} and first["total"] == second["total"] == 40
    assert [a["id"] for a in first["albums"] + second["albums"]] == [a.id for a in spotify_order[:8]]


def test_openapi_documents_suggest(api):
    call, _ = api
    _, _, spec = call("/openapi.json")
    params = {p["name"]: p for p in spec["paths"]["/suggest"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 10 and params["limit"]["schema"]["default"] == 5
