"""党组织的结构 (party organisations as a tree): the one place that reads the tree, says who is a secretary and
which grids an organisation owns — for the deductions a post answers for and the reviews a post may read."""
from collections import defaultdict

from .models import PartyOrganization


def is_secretary(person):
    """书记: a member whose title names him secretary of his organisation."""
    return person is not None and bool(person.party_organization_id) and "书记" in (person.title or "")


def party_tree():
    """{org id: (code, name, level, parent id, unit id)} and {org id: [child ids]} in two queries."""

    orgs = {r[0]: r[1:] for r in PartyOrganization.objects.order_by("code").values_list(
        "pk", "code", "name", "level", "parent_id", "unit_id")}
    children = defaultdict(list)
    for pk, (_c, _n, _l, parent, _u) in orgs.items():
        if parent:
            children[parent].append(pk)
    return orgs, children


def subtree(org_id, children):
    out, frontier = {org_id}, [org_id]
    while frontier:
        frontier = [c for p in frontier for c in children.get(p, ())]
        out.update(frontier)
    return out


def owned_grids(org_ids):
    """{org id: set of responsibility grid ids it owns itself} (one query)."""

    out = defaultdict(set)
    for pk, grid_id in PartyOrganization.grids.through.objects.filter(partyorganization_id__in=org_ids).values_list(
            "partyorganization_id", "responsibilitygrid_id"):
        out[pk].add(grid_id)
    return out
