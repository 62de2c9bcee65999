"""The privacy room (issue 15): notice and consent, a member's rights (``/privacy``,
``/mydata``, ``/forget``, ``/stop``, ``/start``), erasure by operators, retention."""
