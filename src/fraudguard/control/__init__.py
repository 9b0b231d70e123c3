"""Live changes to the running job: the ``control`` topic's messages (:mod:`.messages`,
:mod:`.reranker_message`), reading and writing the topic (:mod:`.topic`), and the one API every
change goes through (:mod:`.changes`)."""
