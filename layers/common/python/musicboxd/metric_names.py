"""Metric names emitted (CloudWatch EMF via Powertools) and read by the CDK dashboard/alarms.

Namespace ``Musicboxd``; the only dimension is ``service`` (the function name), so the
dashboard can address every metric with a fixed dimension set.
"""

NAMESPACE = "Musicboxd"

CACHE_HIT_POPULAR = "CacheHitPopular"
CACHE_HIT_SEARCHED = "CacheHitSearched"  # searched/opened/written-through tiers
CACHE_HIT_STALE = "CacheHitStale"
CACHE_MISS = "CacheMiss"
SPOTIFY_CALLS = "SpotifyCalls"
SPOTIFY_THROTTLED = "SpotifyThrottled"  # 429 answers
SPOTIFY_ERRORS = "SpotifyErrors"  # 5xx / timeouts
SPOTIFY_LATENCY_MS = "SpotifyLatencyMs"
FALLBACK_MUSICBRAINZ = "FallbackMusicBrainz"
FALLBACK_CACHE_ONLY = "FallbackCacheOnly"
POPULATE_ALBUMS_CACHED = "PopulateAlbumsCached"
POPULATE_FAILED = "PopulateFailed"
INDEX_REBUILD_FAILED = "IndexRebuildFailed"  # populate wrote the popular tier, the tier-1 index build failed
CLEANUP_DELETED = "CleanupDeleted"
CACHE_ITEMS = "CacheItems"
POPULATE_CALLS = "PopulateSpotifyCalls"
POPULATE_ALBUMS_PER_CALL = "PopulateAlbumsPerCall"
CLEANUP_REFRESHED = "CleanupRefreshed"
CACHE_ITEMS_POPULAR = "CacheItemsPopular"
CACHE_ITEMS_SEARCHED = "CacheItemsSearched"
CACHE_EXPIRED_UNREAPED = "CacheExpiredUnreaped"
CACHE_HIT_RATE_PCT = "CacheHitRatePct"  # hits / lookups over the last 24 hours, in percent
TIER1_AGREEMENT_PCT = "Tier1AgreementPct"  # verified tier-1 answers agreeing with Spotify (rolling window)
TIER1_VERIFY_CALLS = "Tier1VerifyCalls"  # Spotify calls of one verify run (background share)
TIER1_SHAPES_SUPPRESSED = "Tier1ShapesSuppressed"  # query shapes tier 1 stopped answering


def tier1_agreement_metric(shape: str) -> str:
    """Per query shape: ``Tier1AgreementTitlePct``, ``Tier1AgreementTypoPct``..."""
    return f"Tier1Agreement{shape.title()}Pct"
