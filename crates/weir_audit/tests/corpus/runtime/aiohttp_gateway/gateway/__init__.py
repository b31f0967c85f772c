"""API gateway in front of the legacy XML services."""
