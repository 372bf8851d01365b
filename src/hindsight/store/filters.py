"""Session filters: what users narrow the session list (and heatmaps) by, compiled to SQL."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class SessionFilter:
    """All conditions are ANDed; ``None`` or empty means "any".

    Durations are seconds; dates are Unix epoch ms (inclusive start, exclusive end).
    Page conditions take page URLs; an entry may also be a tuple of URLs (a page group, see
    ``analytics.page_groups``): visiting any of them counts.
    """

    device: tuple[str, ...] = ()
    browser: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    converted: bool | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    start_from_ms: int | None = None
    start_before_ms: int | None = None
    visited: tuple[str | tuple[str, ...], ...] = ()
    not_visited: tuple[str | tuple[str, ...], ...] = ()
    session_ids: tuple[int, ...] | None = None
    extra: tuple[tuple[str, tuple], ...] = field(default=())  # (SQL condition, params) from analytics

    def categories(self) -> dict[str, tuple[str, ...]]:
        """The categorical conditions by column: device, browser, os, country, source."""
        return {"device": self.device, "browser": self.browser, "os": self.os, "country": self.country,
                "source": self.source}

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, (), False) for f in fields(self))

    def replace(self, **changes) -> "SessionFilter":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SessionFilter(**values)

    def to_sql(self, alias: str = "s") -> tuple[str, list]:
        """A WHERE clause body (``"1"`` when empty) and its parameters."""
        conds: list[str] = []
        params: list = []
        for column in ("device", "browser", "os", "country", "source"):
            values = getattr(self, column)
            if values:
                conds.append(f"{alias}.{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        if self.converted is not None:
            conds.append(f"{alias}.converted = ?")
            params.append(1 if self.converted else 0)
        if self.min_duration_s is not None:
            conds.append(f"{alias}.duration_ms >= ?")
            params.append(int(self.min_duration_s * 1000))
        if self.max_duration_s is not None:
            conds.append(f"{alias}.duration_ms <= ?")
            params.append(int(self.max_duration_s * 1000))
        if self.start_from_ms is not None:
            conds.append(f"{alias}.start_ms >= ?")
            params.append(int(self.start_from_ms))
        if self.start_before_ms is not None:
            conds.append(f"{alias}.start_ms < ?")
            params.append(int(self.start_before_ms))
        for negate, entries in (("", self.visited), ("NOT ", self.not_visited)):
            for url in entries:
                urls = tuple(url) if isinstance(url, tuple) else (url,)
                conds.append(
                    f"{negate}EXISTS (SELECT 1 FROM pageviews pv JOIN pages p ON p.page_id = pv.page_id "
                    f"WHERE pv.session_id = {alias}.session_id AND p.url IN ({','.join('?' * len(urls))}))"
                    if urls else ("0" if not negate else "1")
                )
                params.extend(urls)
        if self.session_ids is not None:
            ids = ",".join(str(int(i)) for i in self.session_ids)
            conds.append(f"{alias}.session_id IN ({ids})" if ids else "0")
        for cond, cond_params in self.extra:
            conds.append(cond.replace("{s}", alias))
            params.extend(cond_params)
        return (" AND ".join(f"({c})" for c in conds) if conds else "1"), params
