"""Build real Dash callback requests from a running app's `/_dash-dependencies`.

The benchmark never hand-writes a callback body: it reads the dependency list, renders the
page through Dash Pages' own routing callback to learn the component ids on the page, and
fills the wildcard (ALL) outputs and states with them, exactly as the browser's renderer does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

Post = Callable[[str, dict[str, Any]], dict[str, Any]]


def parse_id(text: str) -> Any:
    """A component id as written in the dependency list: a string or a JSON dict."""
    return json.loads(text) if text.startswith("{") else text


def parse_output(output: str) -> list[tuple[Any, str]]:
    """'..a.children...{"x":1}.figure..' -> [('a', 'children'), ({'x': 1}, 'figure')]."""
    if output.startswith("..") and output.endswith(".."):
        parts = output[2:-2].split("...")
    else:
        parts = [output]
    out = []
    for p in parts:
        p = p.split("@", 1)[0] if not p.startswith("{") else p
        cid, prop = p.rsplit(".", 1)
        out.append((parse_id(cid), prop.split("@", 1)[0]))
    return out


def is_wildcard(cid: Any) -> bool:
    """True for a pattern-matching id with an ALL (or MATCH/ALLSMALLER) value."""
    return isinstance(cid, dict) and any(isinstance(v, list) for v in cid.values())


def matches(pattern: dict[str, Any], cid: Any) -> bool:
    """Does a concrete id match a wildcard pattern?"""
    if not isinstance(cid, dict) or set(cid) != set(pattern):
        return False
    return all(isinstance(v, list) or cid[k] == v for k, v in pattern.items())


def walk_ids(tree: Any) -> Iterator[Any]:
    """Every component id in a serialised Dash component tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props") if "namespace" in node else None
            if props is None:
                continue
            if "id" in props:
                yield props["id"]
            for v in props.values():
                if isinstance(v, (list, dict)):
                    stack.append(v)


def _resolve(cid: Any, prop: str, ids: list[Any], value_of: Callable[[Any, str], Any] | None,
             with_value: bool) -> Any:
    def item(c: Any) -> dict[str, Any]:
        d: dict[str, Any] = {"id": c, "property": prop}
        if with_value:
            d["value"] = value_of(c, prop) if value_of else (c if prop == "id" else None)
        return d

    if is_wildcard(cid):
        return [item(c) for c in ids if matches(cid, c)]
    return item(cid)


def page_tree(post: Post, path: str, search: str = "") -> Any:
    """The component tree Dash Pages renders for `path` (through its routing callback)."""
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    resp = post("/_dash-update-component", body)
    return resp["response"]["_pages_content"]["children"]


def callback_body(dep: dict[str, Any], ids: list[Any], values: dict[tuple[str, str], Any],
                  changed: list[str]) -> dict[str, Any]:
    """The POST body for one callback; `values[(id_json, prop)]` gives input values."""
    def value_of(cid: Any, prop: str) -> Any:
        key = (json.dumps(cid, sort_keys=True) if isinstance(cid, dict) else cid, prop)
        if key in values:
            return values[key]
        return cid if prop == "id" else None

    outs = [_resolve(c, p, ids, None, False) for c, p in parse_output(dep["output"])]
    inputs = [_resolve(parse_id(i["id"]), i["property"], ids, value_of, True)
              for i in dep["inputs"]]
    state = [_resolve(parse_id(s["id"]), s["property"], ids, value_of, True)
             for s in dep["state"]]
    return {"output": dep["output"], "outputs": outs if len(outs) > 1 else outs[0],
            "inputs": inputs, "changedPropIds": changed, "state": state}


def main_callback(deps: list[dict[str, Any]], page: str) -> dict[str, Any] | None:
    """The dependency of a chart page's one main callback (its outputs name the page)."""
    for d in deps:
        if f'"page":"{page}","type":"chart"}}.figure' in d["output"]:
            return d
    return None


def with_search(body: dict[str, Any], search: str) -> dict[str, Any]:
    """A copy of a main-callback body with `url.search` set to `search`."""
    b = json.loads(json.dumps(body))
    for i in b["inputs"]:
        if isinstance(i, dict) and i.get("id") == "url" and i.get("property") == "search":
            i["value"] = search
    return b
