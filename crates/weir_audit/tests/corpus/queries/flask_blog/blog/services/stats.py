"""Per-post statistics for the author dashboard."""
from blog import repository


def post_stats(post_id: int) -> dict[str, int]:
    return {"comments": repository.comment_count(post_id)}


def stats_for_posts(post_ids: list[int]) -> dict[int, dict[str, int]]:
    counts = repository.comment_counts(post_ids)
    return {pid: {"comments": counts.get(pid, 0)} for pid in post_ids}
