# shequn: `make run` serves the demo, `make test` runs every check. Both install what they need.
.PHONY: run test check bench setup lint format seed clean help
SHELL := /bin/bash

help:
	@echo "make run    install, migrate, seed the demo once, serve it at http://127.0.0.1:8000 (Ctrl-C stops)"
	@echo "make test   install, then ruff, mypy, import-linter, migrations and deploy checks, pytest on SQLite and PostgreSQL"
	@echo "make check  the same installs and static checks as make test, without pytest"
	@echo "make bench  order creation, push fan-out, group-buy sign-ups, commission settlement, pages on SQLite and PostgreSQL, the S4 flash sale, red-packet grabs (results: docs/benchmarks.md)"
	@echo "make setup  only install .venv (uv) and node_modules (npm), compile the translations"
	@echo "make lint   ruff, mypy and import-linter only"
	@echo "make format ruff format and ruff check --fix"

run:
	@scripts/run

test:
	@scripts/test

check:
	@scripts/test checks

bench:
	@scripts/bench

setup:
	@source scripts/lib.sh && sync_python && sync_npm && compile_messages

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy shequn
	.venv/bin/lint-imports

format: setup
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

seed: setup
	.venv/bin/python manage.py migrate --noinput
	.venv/bin/python manage.py seed_demo

clean:
	rm -rf var/static test-results .pytest_cache .mypy_cache .ruff_cache
