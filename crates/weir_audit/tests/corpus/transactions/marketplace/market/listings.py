"""Sellers create listings with their photos."""
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from market.db import get_session
from market.models import Listing, ListingPhoto

router = APIRouter(prefix="/listings")


@router.post("")
async def create_listing(payload: dict, session: AsyncSession = Depends(get_session)) -> dict:
    listing = Listing(seller_id=payload["seller_id"], title=payload["title"])
    session.add(listing)
    await session.commit()  # expect: TX-03
    session.add_all(
        [
            ListingPhoto(listing_id=listing.id, url=url, position=i)
            for i, url in enumerate(payload["photos"])
        ]
    )
    await session.commit()
    return {"id": listing.id}


@router.post("/draft")
async def create_draft(payload: dict, session: AsyncSession = Depends(get_session)) -> dict:
    listing = Listing(seller_id=payload["seller_id"], title=payload["title"])
    session.add(listing)
    await session.flush()  # ok: TX-03
    for i, url in enumerate(payload["photos"]):
        session.add(ListingPhoto(listing_id=listing.id, url=url, position=i))
    await session.commit()  # ok: TX-03
    return {"id": listing.id}


@router.post("/{listing_id}/photos")
async def add_photo(listing_id: int, url: str, session: AsyncSession = Depends(get_session)) -> dict:
    listing = await session.get(Listing, listing_id)
    listing.title = listing.title.strip()
    await session.commit()  # ok: TX-03
    photo = ListingPhoto(listing_id=listing_id, url=url)
    session.add(photo)
    await session.commit()  # ok: TX-03
    return {"id": photo.id}


async def clone_listing(session: AsyncSession, source: Listing) -> Listing:
    async with session.begin():
        copy = Listing(seller_id=source.seller_id, title=source.title)
        session.add(copy)
        await session.flush()
        session.add_all([ListingPhoto(listing_id=copy.id, url=p.url) for p in source.photos])  # ok: TX-03
    return copy
