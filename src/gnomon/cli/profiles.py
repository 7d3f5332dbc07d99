"""`gnomon profiles …`: named instances (URL + token) in ``~/.config/gnomon/profiles.toml``.

Which server a command talks to, first match wins:
1. ``--profile NAME`` (or ``GNOMON_PROFILE``): that profile;
2. ``GNOMON_URL`` (+ ``GNOMON_TOKEN``): the environment, as CI jobs set it;
3. the profile marked ``default``.

The file holds tokens, so it is written with mode 0600. ``GNOMON_CONFIG_DIR`` moves it (tests,
or several isolated setups on one machine).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from gnomon.cli.output import handles_api_errors
from gnomon.client import Gnomon, GnomonClientError

app = typer.Typer(no_args_is_help=True, help="Named gnomon instances (URL + token).")

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile", "-p", envvar="GNOMON_PROFILE", help="Profile from profiles.toml to use."
    ),
]


@dataclass(frozen=True)
class Profile:
    name: str
    url: str
    token: str | None


def config_dir() -> Path:
    override = os.environ.get("GNOMON_CONFIG_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gnomon"


def profiles_path() -> Path:
    return config_dir() / "profiles.toml"


def _read() -> dict[str, Any]:
    path = profiles_path()
    if not path.exists():
        return {"default": None, "profiles": {}}
    with path.open("rb") as f:
        raw = tomllib.load(f)
    profiles = raw.get("profiles") if isinstance(raw.get("profiles"), dict) else {}
    return {"default": raw.get("default"), "profiles": profiles}


def _toml_str(value: str) -> str:
    # A JSON string with ASCII escapes is also a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def _write(config: dict[str, Any]) -> None:
    lines: list[str] = []
    if config.get("default"):
        lines.append(f"default = {_toml_str(config['default'])}")
    for name, values in sorted(config["profiles"].items()):
        lines.append("")
        lines.append(f"[profiles.{_toml_str(name)}]")
        for key in ("url", "token"):
            if values.get(key):
                lines.append(f"{key} = {_toml_str(values[key])}")
    path = profiles_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines).lstrip("\n") + "\n")
    tmp.replace(path)


def load_profile(name: str) -> Profile:
    config = _read()
    values = config["profiles"].get(name)
    if not isinstance(values, dict) or not values.get("url"):
        known = ", ".join(sorted(config["profiles"])) or "none yet"
        raise typer.BadParameter(
            f"no profile {name!r} in {profiles_path()} (known: {known}); "
            f"add one with `gnomon profiles add {name} --url URL --token TOKEN`"
        )
    return Profile(name, str(values["url"]), values.get("token"))


def resolve(profile: str | None) -> Profile:
    """The instance a command talks to (see the module docstring for the order)."""
    if profile:
        return load_profile(profile)
    env_url = os.environ.get("GNOMON_URL")
    if env_url:
        return Profile("(environment)", env_url, os.environ.get("GNOMON_TOKEN"))
    default = _read().get("default")
    if default:
        return load_profile(str(default))
    raise typer.BadParameter(
        "no gnomon instance configured: pass --profile, set GNOMON_URL and GNOMON_TOKEN, "
        "or run `gnomon profiles add NAME --url URL --token TOKEN --default`"
    )


def client_for(profile: str | None) -> Gnomon:
    chosen = resolve(profile)
    try:
        return Gnomon(chosen.url, chosen.token)
    except GnomonClientError as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Profile name, e.g. staging.")],
    url: Annotated[str, typer.Option(help="Server URL, e.g. https://bi.example.com.")],
    token: Annotated[str | None, typer.Option(help="API key.")] = None,
    default: Annotated[bool, typer.Option("--default", help="Make it the default.")] = False,
) -> None:
    """Add or replace a profile."""
    config = _read()
    config["profiles"][name] = {"url": url.rstrip("/"), "token": token}
    if default or not config.get("default"):
        config["default"] = name
    _write(config)
    typer.echo(f"saved profile {name!r} in {profiles_path()}")


@app.command("list")
def list_profiles() -> None:
    """List profiles (tokens are not printed)."""
    config = _read()
    for name, values in sorted(config["profiles"].items()):
        mark = "*" if name == config.get("default") else " "
        typer.echo(f"{mark} {name}\t{values.get('url', '')}")


@app.command("use")
def use(name: Annotated[str, typer.Argument(help="Profile to make the default.")]) -> None:
    """Make a profile the default."""
    load_profile(name)
    config = _read()
    config["default"] = name
    _write(config)
    typer.echo(f"default profile is now {name!r}")


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="Profile to delete.")]) -> None:
    """Delete a profile."""
    load_profile(name)
    config = _read()
    del config["profiles"][name]
    if config.get("default") == name:
        config["default"] = next(iter(sorted(config["profiles"])), None)
    _write(config)
    typer.echo(f"removed profile {name!r}")


@app.command("whoami")
@handles_api_errors
def whoami(profile: ProfileOption = None) -> None:
    """Check a profile's URL and token against the server."""
    with client_for(profile) as gn:
        me = gn.whoami()
    typer.echo(json.dumps(me.model_dump(mode="json"), indent=2))
