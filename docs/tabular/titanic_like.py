#!/usr/bin/python3
"""Write titanic.csv: 891 synthetic rows shaped like the Titanic passenger
list (an ID, a 0/1 target, class codes, free-text names, ticket numbers,
mostly blank cabins, blank ages and ports), to show what `flowgrad
describe` and `flowgrad train` make of such a table (docs/tabular.md).
The values are random (seeded), not the real passengers.

    /usr/bin/python3 docs/tabular/titanic_like.py > titanic.csv
    go run ./cmd/flowgrad describe -data titanic.csv
"""
import csv
import random
import sys

r = random.Random(3)
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["PassengerId", "Survived", "Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked"])
for i in range(891):
    pc = r.choice([1, 2, 3, 3, 3])
    sex = r.choice(["male", "female"])
    age = "" if r.random() < 0.2 else str(round(r.uniform(1, 70), 1))
    fare = round({1: 80, 2: 20, 3: 8}[pc] * r.uniform(0.5, 2), 4)
    cabin = "" if r.random() < 0.77 else "C%d" % r.randint(1, 150)
    emb = r.choice(["S", "S", "S", "C", "Q", ""]) if r.random() < 0.99 else ""
    p = 0.2 + 0.5 * (sex == "female") + 0.15 * (pc == 1)
    w.writerow([i + 1, int(r.random() < p), pc, "Smith, Mr. John %d" % i, sex, age, r.randint(0, 3), r.randint(0, 2),
                "A/5 %d" % r.randint(1000, 99999), fare, cabin, emb])
