"""Translate legacy XML and HTML responses into JSON-friendly values."""
from bs4 import BeautifulSoup
from lxml import etree

NS = {"svc": "urn:legacy:service:v2"}


def parse_xml(raw: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(raw, parser)


def element_to_dict(node: etree._Element) -> dict:
    children = list(node)
    if not children:
        return {etree.QName(node).localname: node.text}
    return {etree.QName(node).localname: [element_to_dict(child) for child in children]}


def xml_to_json(raw: bytes) -> dict:
    return element_to_dict(parse_xml(raw))


def html_summary(html: str) -> dict:
    soup = BeautifulSoup(html, "lxml")
    return {"title": soup.title.string if soup.title else None, "links": len(soup.find_all("a"))}


def field_names(records: list[dict]) -> str:
    return ",".join(sorted(set([key for record in records for key in record])))  # expect: RT-02


def has_errors(records: list[dict]) -> bool:
    return any(record.get("error") for record in records)  # ok: RT-02


def distinct_ids(ids: list[str]) -> set[str]:
    return set(ids)  # ok: RT-02


def error_count(records: list[dict]) -> int:
    return sum([1 for record in records if record.get("error")])  # expect: RT-02


def render_csv(records: list[dict], fields: list[str]) -> str:
    out = ",".join(fields) + "\n"
    for record in records:
        out += ",".join(str(record.get(name, "")) for name in fields) + "\n"  # expect: RT-04
    return out


def csv_chunks(records: list[dict], fields: list[str], size: int = 500) -> list[str]:
    chunks: list[str] = []
    for start in range(0, len(records), size):
        chunks += [render_csv(records[start : start + size], fields)]  # ok: RT-04
    return chunks


def record_ids(records: list[dict]) -> list[str]:
    snapshot = list(records)  # expect: RT-06
    return [str(record.get("id")) for record in snapshot]


def without_hop_headers(headers: dict[str, str]) -> dict[str, str]:
    forwarded = dict(headers)  # ok: RT-06
    for name in ("connection", "keep-alive", "transfer-encoding", "upgrade"):
        forwarded.pop(name, None)
    return forwarded


def merge_headers(defaults: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    merged = defaults.copy()  # ok: RT-06
    merged.update(overrides)
    return merged


def header_names(headers: dict[str, str]) -> list[str]:
    view = dict(headers)  # expect: RT-06
    return sorted(name.lower() for name in view)


def forwarded_headers(headers: dict[str, str], allowed: set[str]) -> dict[str, str]:
    allowed_now = set(allowed)  # expect: RT-06
    return {name: value for name, value in headers.items() if name.lower() in allowed_now}
