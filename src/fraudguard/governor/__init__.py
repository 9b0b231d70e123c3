"""The model governor as a service: the gates of :mod:`fraudguard.models.governor` applied
every round to the recent committed decisions and the labels (``fraudguard governor run``).

- :mod:`~fraudguard.governor.window`: the decisions window and the labels, held in memory;
- :mod:`~fraudguard.governor.round`: one round and whether it is worth a control message;
- :mod:`~fraudguard.governor.service`: the Kafka loop around them.
"""
