"""NOTIFY triggers for listings, bids and payouts

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"

LISTING_FN = """
CREATE OR REPLACE FUNCTION notify_listing_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('listing_changed', NEW.id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

BID_FN = """
CREATE OR REPLACE FUNCTION notify_bid_placed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('bid_placed', json_build_object('auction', NEW.auction_id, 'amount', NEW.amount)::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

PAYOUT_FN = """
CREATE OR REPLACE FUNCTION notify_payout_settled() RETURNS trigger AS $$
BEGIN
    IF NEW.settled_at IS NOT NULL AND OLD.settled_at IS NULL THEN
        PERFORM pg_notify('payout_settled', NEW.id::text);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.execute(LISTING_FN)
    op.execute("CREATE TRIGGER listings_changed AFTER INSERT OR UPDATE ON listings FOR EACH ROW EXECUTE FUNCTION notify_listing_changed()")  # ok: TX-06
    op.execute(BID_FN)
    op.execute("CREATE TRIGGER bids_placed AFTER INSERT ON bids FOR EACH ROW EXECUTE FUNCTION notify_bid_placed()")  # ok: TX-06
    op.execute(PAYOUT_FN)
    op.execute("CREATE TRIGGER payouts_settled AFTER UPDATE ON payouts FOR EACH ROW EXECUTE FUNCTION notify_payout_settled()")  # expect: TX-06


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS payouts_settled ON payouts")
    op.execute("DROP TRIGGER IF EXISTS bids_placed ON bids")
    op.execute("DROP TRIGGER IF EXISTS listings_changed ON listings")
