"""Spotify: the accounts service (client credentials) and the Web API under ``/v1``."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode

from tools.emulator.catalog import Album, Artist, Catalog, Track, image_hash
from tools.emulator.errors import ApiError, spotify_error
from tools.emulator.search import parse_query
from tools.emulator.state import Config, removed_kind

if TYPE_CHECKING:
    from email.message import Message

    from tools.emulator.server import EmulatorServer

SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
_ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")
_MARKET_RE = re.compile(r"^[A-Z]{2}$")
GRANT_TYPE_MESSAGE = "grant_type must be client_credentials, authorization_code or refresh_token"
DEV_MODE_MESSAGE = "This endpoint is not available for apps in Development Mode"
REMOVED_MESSAGE = "This endpoint is no longer available"


class Renderer:
    def __init__(self, catalog: Catalog, config: Config, base: str, market: str | None):
        self.catalog = catalog
        self.config = config
        self.base = base
        self.market = market
        self.ext = config.extended

    def images(self, kind: str, sid: str) -> list[dict[str, Any]]:
        h = image_hash(kind, sid)
        if kind == "album":
            prefixes = (("ab67616d0000b273", 640), ("ab67616d00001e02", 300), ("ab67616d00004851", 64))
        else:
            prefixes = (("ab6761610000e5eb", 640), ("ab67616100005174", 320), ("ab6761610000f178", 160))
        return [{"url": f"https://i.scdn.co/image/{p}{h}", "height": s, "width": s} for p, s in prefixes]

    def simple_artist(self, artist: Artist) -> dict[str, Any]:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist.id}"},
            "href": f"{self.base}/v1/artists/{artist.id}",
            "id": artist.id,
            "name": artist.name,
            "type": "artist",
            "uri": f"spotify:artist:{artist.id}",
        }

    def artist(self, artist: Artist) -> dict[str, Any]:
        out = self.simple_artist(artist)
        out["genres"] = []
        out["images"] = self.images("artist", artist.id) if artist.index else []
        if self.ext:
            out["followers"] = {"href": None, "total": artist.followers}
            out["popularity"] = artist.popularity
        return dict(sorted(out.items()))

    def simple_album(self, album: Album) -> dict[str, Any]:
        date, precision = album.release(self.config.today)
        out: dict[str, Any] = {
            "album_type": album.album_type,
            "total_tracks": album.total_tracks,
        }
        if self.ext:
            out["available_markets"] = list(album.markets)
        out.update(
            {
                "external_urls": {"spotify": f"https://open.spotify.com/album/{album.id}"},
                "href": f"{self.base}/v1/albums/{album.id}",
                "id": album.id,
                "images": self.images("album", album.id),
                "name": album.name,
                "release_date": date,
                "release_date_precision": precision,
                "type": "album",
                "uri": f"spotify:album:{album.id}",
                "artists": [self.simple_artist(self.catalog.artists[i]) for i in album.artists],
            }
        )
        if self.market and self.market not in album.markets:
            out["restrictions"] = {"reason": "market"}
        return out

    def album(self, album: Album) -> dict[str, Any]:
        out = self.simple_album(album)
        year = album.release(self.config.today)[0][:4]
        label = album.label
        out["tracks"] = self.track_page(album, 0, 50)
        out["copyrights"] = [
            {"text": f"© {year} {label}", "type": "C"},
            {"text": f"℗ {year} {label}", "type": "P"},
        ]
        out["external_ids"] = {"upc": album.upc}
        out["genres"] = []
        if self.ext:
            out["label"] = label
            out["popularity"] = album.popularity
        return out

    def simple_track(self, track: Track, album: Album) -> dict[str, Any]:
        out: dict[str, Any] = {
            "artists": [self.simple_artist(self.catalog.artists[i]) for i in track.artists],
        }
        if self.ext:
            out["available_markets"] = list(album.markets)
        out.update(
            {
                "disc_number": track.disc_number,
                "duration_ms": track.duration_ms,
                "explicit": track.explicit,
                "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
                "href": f"{self.base}/v1/tracks/{track.id}",
                "id": track.id,
                "name": track.name,
                "preview_url": None,
                "track_number": track.track_number,
                "type": "track",
                "uri": f"spotify:track:{track.id}",
                "is_local": False,
            }
        )
        if self.market:
            playable = self.market in album.markets
            out["is_playable"] = playable
            if not playable:
                out["restrictions"] = {"reason": "market"}
        return out

    def track(self, track: Track) -> dict[str, Any]:
        album = self.catalog.albums[track.album]
        out = self.simple_track(track, album)
        out["album"] = self.simple_album(album)
        out["external_ids"] = {"isrc": track.isrc}
        if self.ext:
            out["popularity"] = track.popularity
        return out

    def paging(
        self,
        path: str,
        params: dict[str, Any],
        items: list,
        offset: int,
        limit: int,
        total: int,
        cap: int | None = None,
    ) -> dict[str, Any]:
        def url(off: int) -> str:
            query = {**params, "offset": off, "limit": limit}
            if self.market and "market" not in query:
                query["market"] = self.market
            return f"{self.base}{path}?{urlencode(query, quote_via=quote)}"

        end = offset + limit
        has_next = end < total and (cap is None or end <= cap)
        return {
            "href": url(offset),
            "items": items,
            "limit": limit,
            "next": url(end) if has_next else None,
            "offset": offset,
            "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    def track_page(self, album: Album, offset: int, limit: int) -> dict[str, Any]:
        tracks = self.catalog.tracks(album)
        items = [self.simple_track(t, album) for t in tracks[offset : offset + limit]]
        return self.paging(f"/v1/albums/{album.id}/tracks", {}, items, offset, limit, len(tracks))


def _int_param(params: dict[str, str], name: str, default: int, lo: int, hi: int | None, message: str) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, message) from None
    if value < lo or (hi is not None and value > hi):
        raise ApiError(400, message)
    return value


def _check_id(raw: str) -> str:
    if not _ID_RE.match(raw):
        raise ApiError(400, "Invalid base62 id")
    return raw


class SpotifyApi:
    """``POST /api/token`` and ``/v1/*`` for the request handler."""

    server: EmulatorServer
    headers: Message
    base: str

    def _token(self, method: str, params: dict[str, str], body: bytes) -> tuple[int, Any]:
        if method != "POST":
            return 405, {"error": "invalid_request", "error_description": "Only POST is supported"}
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        form = {**params, **form}
        grant = form.get("grant_type")
        if not grant:
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "grant_type parameter is missing",
            }
        if grant != "client_credentials":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": GRANT_TYPE_MESSAGE,
            }
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return 400, {"error": "invalid_client", "error_description": "Invalid client"}
            client_id, _, client_secret = decoded.partition(":")
        config = self.server.state.config
        if not client_id or (config.client_id and client_id != config.client_id):
            return 400, {"error": "invalid_client", "error_description": "Invalid client"}
        if not client_secret or (config.client_secret and client_secret != config.client_secret):
            return 400, {"error": "invalid_client", "error_description": "Invalid client secret"}
        token, ttl = self.server.state.issue_token()
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    # -- Spotify Web API -----------------------------------------------------------------------------
    def _spotify(self, method: str, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        problem = state.check_token(self.headers.get("Authorization"))
        if problem:
            return 401, spotify_error(401, problem), {"WWW-Authenticate": 'Bearer realm="spotify"'}
        retry = state.take_rate_slot()
        if retry is not None:
            return 429, spotify_error(429, "API rate limit exceeded"), {"Retry-After": str(retry)}
        config = state.config
        market = params.get("market") or None
        if market == "from_token":
            market = "US"
        if market is not None and not _MARKET_RE.match(market):
            raise ApiError(400, "Invalid market code")
        removed = removed_kind(path)
        if removed == "all" or (removed == "dev" and not config.extended):
            raise ApiError(403, DEV_MODE_MESSAGE if removed == "dev" else REMOVED_MESSAGE)
        if method != "GET":
            raise ApiError(405, "Method not allowed")
        r = Renderer(state.catalog, config, self.base, market)
        parts = path.split("/")[2:]  # after /v1
        if parts == ["search"]:
            return 200, self._search(r, params), {}
        if parts[0] == "albums":
            if len(parts) == 1:
                return 200, self._albums_batch(r, params), {}
            album = self._album(parts[1])
            if len(parts) == 2:
                return 200, r.album(album), {}
            if len(parts) == 3 and parts[2] == "tracks":
                limit = _int_param(params, "limit", 20, 1, 50, "Invalid limit")
                offset = _int_param(params, "offset", 0, 0, None, "Invalid offset")
                return 200, r.track_page(album, offset, limit), {}
        if parts[0] == "artists" and len(parts) >= 2:
            artist = state.catalog.artist(_check_id(parts[1]))
            if artist is None:
                raise ApiError(404, "Resource not found")
            if len(parts) == 2:
                return 200, r.artist(artist), {}
            if parts[2:] == ["albums"]:
                return 200, self._artist_albums(r, artist, params), {}
            if parts[2:] == ["top-tracks"]:
                return 200, self._top_tracks(r, artist), {}
        if parts[0] == "playlists" and len(parts) == 3 and parts[2] in ("items", "tracks"):
            return 200, self._playlist_items(r, parts[1], params), {}
        if parts == ["browse", "new-releases"]:
            if not config.extended:
                raise ApiError(403, DEV_MODE_MESSAGE)
            return 200, self._new_releases(r, params), {}
        raise ApiError(404, "Service not found")

    def _album(self, raw_id: str) -> Album:
        album = self.server.state.catalog.album(_check_id(raw_id))
        if album is None:
            raise ApiError(404, "Resource not found")
        return album

    def _search(self, r: Renderer, params: dict[str, str]) -> dict[str, Any]:
        q = params.get("q", params.get("query", ""))
        if not q.strip():
            raise ApiError(400, "No search query")
        raw_type = params.get("type")
        if not raw_type:
            raise ApiError(400, "Missing parameter type")
        types = [t.strip() for t in raw_type.split(",") if t.strip()]
        for t in types:
            if t not in SEARCH_TYPES:
                raise ApiError(400, f"Bad search type field {t}")
        if not types:
            raise ApiError(400, "Missing parameter type")
        cap = 50 if r.ext else 10
        limit = _int_param(params, "limit", 20 if r.ext else 5, 1, cap, "Invalid limit")
        offset = _int_param(params, "offset", 0, 0, 1000, "Invalid offset")
        index = r.catalog.index
        query_params = {"query": q, "type": raw_type}
        if params.get("include_external"):
            query_params["include_external"] = params["include_external"]
        out: dict[str, Any] = {}
        for t in types:
            key = t + "s"
            if t == "album":
                total, albums, _ = index.search(parse_query(q), r.config.today, offset, limit, r.market)
                items = [r.simple_album(a) for a in albums]
            elif t == "artist":
                total, idxs = index.search_artists(q, offset, limit)
                items = [r.artist(r.catalog.artists[i]) for i in idxs]
            else:  # not emulated: always empty
                total, items = 0, []
            out[key] = r.paging("/v1/search", query_params, items, offset, limit, total, cap=1000)
        return out

    def _albums_batch(self, r: Renderer, params: dict[str, str]) -> dict[str, Any]:
        if not r.ext:
            raise ApiError(403, DEV_MODE_MESSAGE)
        raw = params.get("ids", "")
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        if not ids:
            raise ApiError(400, "Missing parameter ids")
        if len(ids) > 20:
            raise ApiError(400, "Too many ids requested")
        albums = []
        for i in ids:
            album = r.catalog.album(_check_id(i))
            albums.append(None if album is None else r.album(album))
        return {"albums": albums}

    def _artist_albums(self, r: Renderer, artist: Artist, params: dict[str, str]) -> dict[str, Any]:
        limit = _int_param(params, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_param(params, "offset", 0, 0, None, "Invalid offset")
        groups_raw = params.get("include_groups") or "album,single,compilation,appears_on"
        groups = {g.strip() for g in groups_raw.split(",") if g.strip()}
        today = r.config.today
        albums = [r.catalog.albums[i] for i in artist.albums]
        rows = []
        for a in albums:
            group = a.album_type if a.artists[0] == artist.index else "appears_on"
            if group in groups and (not r.market or r.market in a.markets):
                rows.append((a, group))
        rows.sort(key=lambda ag: (ag[0].release_day(today), ag[0].id), reverse=True)
        items = []
        for a, group in rows[offset : offset + limit]:
            obj = r.simple_album(a)
            obj["album_group"] = group
            items.append(obj)
        query = {"include_groups": groups_raw} if params.get("include_groups") else {}
        return r.paging(f"/v1/artists/{artist.id}/albums", query, items, offset, limit, len(rows))

    def _top_tracks(self, r: Renderer, artist: Artist) -> dict[str, Any]:
        tracks = []
        for i in artist.albums[:50]:
            tracks.extend(r.catalog.tracks(i)[:3])
        tracks.sort(key=lambda t: (-t.popularity, t.id))
        return {"tracks": [r.track(t) for t in tracks[:10]]}

    def _playlist_items(self, r: Renderer, raw_id: str, params: dict[str, str]) -> dict[str, Any]:
        playlist = r.catalog.playlist(_check_id(raw_id))
        if playlist is None:
            raise ApiError(404, "Resource not found")
        limit = _int_param(params, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_param(params, "offset", 0, 0, None, "Invalid offset")
        owner = {
            "external_urls": {"spotify": f"https://open.spotify.com/user/{playlist.owner_id}"},
            "href": f"{r.base}/v1/users/{playlist.owner_id}",
            "id": playlist.owner_id,
            "type": "user",
            "uri": f"spotify:user:{playlist.owner_id}",
        }
        items = []
        for pos in range(offset, min(offset + limit, len(playlist.items))):
            album_index, track_pos = playlist.items[pos]
            track = r.track(r.catalog.tracks(album_index)[track_pos])
            items.append(
                {
                    "added_at": playlist.added_at[pos],
                    "added_by": owner,
                    "is_local": False,
                    "item": track,
                    "track": track,
                }
            )
        return r.paging(f"/v1/playlists/{playlist.id}/items", {}, items, offset, limit, len(playlist.items))

    def _new_releases(self, r: Renderer, params: dict[str, str]) -> dict[str, Any]:
        limit = _int_param(params, "limit", 20, 1, 50, "Invalid limit")
        offset = _int_param(params, "offset", 0, 0, None, "Invalid offset")
        today = r.config.today
        idxs = r.catalog.index.new_releases(today, days=28)
        albums = sorted(
            (r.catalog.albums[i] for i in idxs),
            key=lambda a: (-a.release_day(today).toordinal(), -a.popularity, a.id),
        )[:100]
        items = [r.simple_album(a) for a in albums[offset : offset + limit]]
        return {"albums": r.paging("/v1/browse/new-releases", {}, items, offset, limit, len(albums))}
