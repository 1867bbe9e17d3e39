from portal.orders.numbers import ALPHABET, new_order_number, normalise


def test_numbers_are_two_groups_of_five_unambiguous_characters():
    numbers = {new_order_number() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        left, right = number.split("-")
        assert len(left) == len(right) == 5
        assert set(left + right) <= set(ALPHABET)
        assert not set(left + right) & set("ILOU")


def test_what_people_type_is_normalised_to_the_stored_form():
    assert normalise(" 7k3q9xwd2m ") == "7K3Q9-XWD2M"
    assert normalise("7K3Q9-XWD2M") == "7K3Q9-XWD2M"
    assert normalise("7k3q9 xwd2m") == "7K3Q9-XWD2M"
    assert normalise("o1l3i") == "01131"  # letters read as the digits they resemble
    assert normalise("7k3") == "7K3"


def test_a_number_spells_its_fifty_bits_least_significant_character_first():
    assert new_order_number(lambda bits: 1) == "10000-00000"
    assert new_order_number(lambda bits: 2**50 - 1) == "ZZZZZ-ZZZZZ"
    assert new_order_number(lambda bits: 0x3_1234_5678_9ABC) == "WN6H7-BH6JR"
