import pytest
from django.core.exceptions import ValidationError

from urbangrid.catalog.models import Component, validate_component_identifier


def codes(exc):
    return {e.code for e in exc.value.error_list}


@pytest.mark.parametrize("identifier", ["3301020101000001", "3205080101999999"])
def test_good_16_digit_identifier(small_catalog, identifier):
    validate_component_identifier(identifier, small_catalog.manhole)


@pytest.mark.parametrize("identifier", ["330102010100001", "33010201010000012", "33010201010000A1", "", None])
def test_bad_16_digit_format(small_catalog, identifier):
    with pytest.raises(ValidationError) as exc:
        validate_component_identifier(identifier, small_catalog.manhole)
    assert codes(exc) == {"format"}
    assert "16位" in exc.value.messages[0]


def test_class_mismatch_16(small_catalog):
    with pytest.raises(ValidationError) as exc:
        validate_component_identifier("3301020102000001", small_catalog.manhole)  # 0102 is 污水井盖
    assert codes(exc) == {"class_mismatch"}


def test_good_and_bad_17_digit(small_catalog):
    validate_component_identifier("33010201001000001", small_catalog.supply)
    with pytest.raises(ValidationError) as exc:
        validate_component_identifier("3301020100100001", small_catalog.supply)  # 16 digits under GB/T 47678.5
    assert codes(exc) == {"format"} and "17位" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        validate_component_identifier("33010201002000001", small_catalog.supply)
    assert codes(exc) == {"class_mismatch"}


def test_event_class_is_refused(small_catalog):
    with pytest.raises(ValidationError) as exc:
        validate_component_identifier("3301020101000001", small_catalog.building)
    assert codes(exc) == {"not_component"}


def test_component_save_resolves_unit_grid(geo, units, small_catalog):
    lon, lat = geo.p_yuewang
    c = Component(identifier="3301020101000007", catalog_class=small_catalog.manhole, lon=lon, lat=lat,
                  competent_unit=units.water, state=Component.State.DAMAGED)
    c.full_clean()
    c.save()
    c.refresh_from_db()
    assert c.unit_grid == geo.g2
    c.lon, c.lat = geo.p_qingbo
    c.save()
    assert Component.objects.get(pk=c.pk).unit_grid == geo.g3


def test_component_clean_checks_place(geo, small_catalog):
    c = Component(identifier="3205080101000001", catalog_class=small_catalog.manhole, lon=geo.p_dongpo[0], lat=geo.p_dongpo[1])
    with pytest.raises(ValidationError) as exc:
        c.full_clean()
    assert "identifier" in exc.value.message_dict and "320508" in exc.value.message_dict["identifier"][0]
    c = Component(identifier="3301020101000001", catalog_class=small_catalog.manhole, lon=geo.p_outside[0], lat=geo.p_outside[1])
    with pytest.raises(ValidationError) as exc:
        c.full_clean()
    assert set(exc.value.message_dict) == {"lon"}
    c.save()  # saving anyway keeps the point but no grid
    assert c.unit_grid_id is None
