"""`ExamplesTree`: the Teach panel's list, each action with its number of examples (and "either hand"
when it may be learnt mirrored), its examples below."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from sta_hands.app.gui.widgets import font
from sta_hands.teach.examples_folder import Example

EXAMPLE_ROLE = Qt.UserRole  # an example row's data: its `Example`
EITHER_HAND = "either hand"


class ExamplesTree(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["action / example", "examples / s"])
        self.setColumnWidth(0, 230)
        self.setFont(font(11))

    def show_actions(
        self, actions: dict[str, list[Example]], mirrored: set[str] | frozenset[str] = frozenset()
    ) -> None:
        """List `actions` (name -> examples), keeping the selected row selected."""
        selected, selected_action = self.selected(), self.selected_action()
        self.clear()
        for action, examples in actions.items():
            count = f"{len(examples)}  ({EITHER_HAND})" if action in mirrored else str(len(examples))
            item = QTreeWidgetItem([action, count])
            item.setFont(0, font(12, bold=True))
            for example in examples:
                child = QTreeWidgetItem([example.name, f"{example.seconds:.1f} s"])
                child.setData(0, EXAMPLE_ROLE, example)
                item.addChild(child)
            self.addTopLevelItem(item)
            item.setExpanded(True)
            item.setSelected(selected is None and action == selected_action)
        if selected is not None:
            self.select(selected.stem)

    def counts(self) -> dict[str, int]:
        """What the list shows: action -> number of examples."""
        items = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        return {item.text(0): int(item.text(1).split()[0]) for item in items}

    def select(self, stem: str | Path) -> None:
        """Select the example with `stem` (if listed), and only it."""
        for i in range(self.topLevelItemCount()):
            action = self.topLevelItem(i)
            for j in range(action.childCount()):
                child = action.child(j)
                child.setSelected(child.data(0, EXAMPLE_ROLE).stem == Path(stem))

    def selected(self) -> Example | None:
        items = [item for item in self.selectedItems() if item.data(0, EXAMPLE_ROLE) is not None]
        return items[0].data(0, EXAMPLE_ROLE) if items else None

    def selected_action(self) -> str | None:
        """The action of the selected row (an action or one of its examples)."""
        items = self.selectedItems()
        if not items:
            return None
        example = items[0].data(0, EXAMPLE_ROLE)
        return example.action if example is not None else items[0].text(0)
