"""A live class (issue L): rooms with a code, students who follow the teacher's view, questions
to the class and a gallery of drawings; in this process or in Redis. No Streamlit here."""
from cnnviz.classroom.rooms import Limits, RoomError, Rooms, rooms_for_server

__all__ = ["Rooms", "RoomError", "Limits", "rooms_for_server"]
