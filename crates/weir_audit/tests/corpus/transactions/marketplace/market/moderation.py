"""Moderators suspend and restore listings; every action is logged."""
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from market.channels import LISTING_FLAGGED
from market.models import Listing, ModerationLog


async def flag_listing(session: AsyncSession, listing_id: int, reporter_id: int) -> None:
    await session.execute(  # ok: TX-06
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": LISTING_FLAGGED, "payload": str(listing_id)},
    )
    await session.commit()


async def suspend_listing(session: AsyncSession, listing_id: int, moderator_id: int) -> None:
    listing = await session.get(Listing, listing_id)
    listing.status = "suspended"
    await session.commit()  # expect: TX-03
    session.add(ModerationLog(listing_id=listing.id, action="suspend", moderator_id=moderator_id))
    await session.commit()


async def restore_listing(session: AsyncSession, listing_id: int, moderator_id: int) -> None:
    listing = await session.get(Listing, listing_id)
    listing.status = "active"
    session.add(ModerationLog(listing_id=listing.id, action="restore", moderator_id=moderator_id))
    await session.commit()  # ok: TX-03


async def bulk_hide(session: AsyncSession, listing_ids: list[int], moderator_id: int) -> None:
    async with session.begin():
        await session.execute(
            update(Listing).where(Listing.id.in_(listing_ids)).values(status="hidden")
        )
        session.add_all(
            [ModerationLog(listing_id=i, action="hide", moderator_id=moderator_id) for i in listing_ids]
        )


async def expire_listing(session: AsyncSession, listing_id: int) -> None:
    await session.execute(
        update(Listing).where(Listing.id == listing_id).values(status="expired")
    )
    await session.commit()  # expect: TX-03
    session.add(ModerationLog(listing_id=listing_id, action="expire"))
    await session.commit()
