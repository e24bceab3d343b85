"""One running total of eligible yen per cap group and the points it is worth (R1, R2, R7)."""

from __future__ import annotations

from dataclasses import dataclass

from mynapoint.domain.measures import Rounding


def points_for(amount_yen: int, rate_percent: int) -> int:
    """floor(rate x amount), in integers: no float ever touches money."""
    return amount_yen * rate_percent // 100


@dataclass
class CapLedger:
    """The running total of a cap group (phase 1 and measure 1 share one).

    Cumulative services contribute floor(rate x their eligible total);
    per-transaction services the sum of each event's floored points. Amounts
    spent after the cap still enter the total (R2), so a later refund may
    claw nothing back.
    """

    cap: int
    rate_percent: int
    cumulative_yen: int = 0
    per_transaction_points: int = 0

    def points(self) -> int:
        uncapped = points_for(self.cumulative_yen, self.rate_percent) + self.per_transaction_points
        return min(self.cap, uncapped)

    def is_reached(self) -> bool:
        return self.points() >= self.cap

    def add(self, rounding: Rounding, amount_yen: int) -> None:
        if rounding is Rounding.CUMULATIVE:
            self.cumulative_yen += amount_yen
        else:
            self.per_transaction_points += points_for(amount_yen, self.rate_percent)

    def lower(self, rounding: Rounding, net_before: int, net_after: int) -> None:
        if rounding is Rounding.CUMULATIVE:
            self.cumulative_yen -= net_before - net_after
        else:
            self.per_transaction_points -= points_for(net_before, self.rate_percent) - points_for(
                net_after, self.rate_percent
            )
