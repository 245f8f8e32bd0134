"""Reading the signed data: the RDF graph a proof covers, not the JSON around it.

A verified proof covers the canonical N-Quads of the document. The fields the verifier acts on
(dates, status, recipient) are read from that graph by their full IRIs, so a property that
is in the JSON but not in the signed graph (an alias, a term the context drops) cannot
change the verdict.
"""

from __future__ import annotations

from typing import Any, Final

from pyld import jsonld

from openbackpack._jsonld_lock import JSONLD_LOCK
from openbackpack.credentials._nquads import parse_nquads

__all__ = ["CRED", "OB", "STATUS", "SignedGraph"]

CRED: Final = "https://www.w3.org/2018/credentials#"
STATUS: Final = "https://www.w3.org/ns/credentials/status#"
OB: Final = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
_VC: Final = CRED + "VerifiableCredential"


class SignedGraph:
    """The nodes of a canonical N-Quads dataset, with the credential at its root."""

    def __init__(self, nquads: str, root_id: str | None = None) -> None:
        # Read by our reader (pyld's compares each triple with all before it), outside the
        # lock: it touches none of pyld's caches.
        dataset = parse_nquads(nquads)
        with JSONLD_LOCK:
            expanded = jsonld.from_rdf(dataset, {})
        self._nodes: dict[str, dict[str, Any]] = {
            node["@id"]: node for node in expanded if isinstance(node, dict) and "@id" in node
        }
        referenced = {
            value["@id"]
            for node in self._nodes.values()
            for key, values in node.items()
            if not key.startswith("@")
            for value in values
            if isinstance(value, dict) and "@id" in value
        }
        # The credential is the node with the document's id; a credential without an id
        # is a blank node, the one credential no other node refers to.
        roots = [
            node
            for node_id, node in self._nodes.items()
            if _VC in node.get("@type", [])
            and (node_id == root_id if root_id is not None else node_id not in referenced)
        ]
        self.root: dict[str, Any] | None = roots[0] if len(roots) == 1 else None

    def node(self, node_id: str) -> dict[str, Any]:
        """The node with that id (an empty node if the graph does not describe it)."""
        return self._nodes.get(node_id, {"@id": node_id})

    def values(self, node: dict[str, Any] | None, iri: str) -> list[Any]:
        """The literal values (``@value``) or linked nodes of a property."""
        if node is None:
            return []
        out: list[Any] = []
        for value in node.get(iri, []):
            if isinstance(value, dict) and "@value" in value:
                out.append(value["@value"])
            elif isinstance(value, dict) and "@id" in value:
                out.append(self.node(value["@id"]))
        return out

    def first(self, node: dict[str, Any] | None, iri: str) -> Any:
        """The first value of a property, or None."""
        found = self.values(node, iri)
        return found[0] if found else None
