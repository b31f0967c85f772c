"""File helpers used across the service."""
import csv
import json
from pathlib import Path

import yaml


def read_text(path: str | Path) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def read_yaml(path: str | Path) -> dict:
    return yaml.safe_load(read_text(path)) or {}


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")


def append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
