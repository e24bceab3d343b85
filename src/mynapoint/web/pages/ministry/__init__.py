"""The ministry's console (/ministry): ministry administrators, viewers and auditors."""
