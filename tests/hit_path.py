"""The smallest table a hit path needs: one cached album, one cached search page, a tier-1 index.

Shared by the SnapStart test and the cold-start bench, which time and check the same hits.
"""

from __future__ import annotations

from musicboxd.adapters.dynamo import DynamoCache
from musicboxd.adapters.index_store import DynamoIndexStore, DynamoPopularAlbums
from musicboxd.config import Settings
from musicboxd.models import SearchPage
from musicboxd.normalize import normalize_query
from musicboxd.ports import TIER_POPULAR
from musicboxd.services.catalog import search_key
from musicboxd.services.tier1 import rebuild_index
from tests.fakes import make_album

ALBUM_ID = "4aawyAB9vmqN3uQ7FjRGTy"
QUERY = "homogenic"


def seed_hit_path(model) -> None:
    """Cache ALBUM_ID, the first search page of QUERY, and build the tier-1 index from them."""
    cache = DynamoCache(model)
    album = make_album(ALBUM_ID)
    cache.put_album(album, tier=TIER_POPULAR, ttl_seconds=86_400)
    page = SearchPage(items=[album.summary()], total=1)
    key = search_key("US", normalize_query(QUERY), offset=0, limit=Settings().search_block_size)
    cache.put_search(key, page, ttl_seconds=86_400)
    rebuild_index(DynamoPopularAlbums(model), DynamoIndexStore(model))
