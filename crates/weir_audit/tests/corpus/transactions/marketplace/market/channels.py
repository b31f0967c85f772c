"""Every channel name in one place: publishers and listeners import these."""

LISTING_CHANGED = "listing_changed"
LISTING_FLAGGED = "listing_flagged"
AUCTION_BIDS = "auction.{auction_id}.bids"
