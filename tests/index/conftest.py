"""Real git repositories in temp dirs, with code in several languages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import git
import pytest

from codeassist.config import IndexSettings
from codeassist.index import RepoIndex

SOURCES: dict[str, str] = {
    "app/models.py": '''\
"""Models."""
from app.util import slugify, Clock as C


class Base:
    def save(self) -> None:
        slugify(self.name)


class User(Base):
    """A user."""

    def __init__(self, name: str) -> None:
        self.name = name

    def greet(self, other: "User") -> str:
        return format_greeting(self.name, other.name)


def format_greeting(a: str, b: str) -> str:
    return f"{a} greets {b}"
''',
    "app/util.py": """\
import re


def slugify(text):
    return re.sub(r"\\W+", "-", text)


class Clock:
    def now(self):
        return 0
""",
    "app/main.py": """\
from app.models import User


def main():
    u = User("ann")
    print(u.greet(User("bob")))
    slugify("x")
""",
    "web/client.js": """\
import { render } from "./view.js";
const api = require("./api");

export class Client {
  fetchUser(id) {
    return api.get(id);
  }
}

function start() {
  new Client().fetchUser(1);
  render();
}
""",
    "web/view.ts": """\
import { Client } from "./client";

export interface View {
  draw(): void;
}

export function render(): void {
  const c: Client = new Client();
}
""",
    "web/widget.tsx": """\
export function Widget(props: { name: string }) {
  return <div>{props.name}</div>;
}
""",
    "svc/main.go": """\
package main

import "fmt"

type Server struct{}

func (s *Server) Start() {
	fmt.Println("start")
}

func main() {
	s := &Server{}
	s.Start()
}
""",
    "core/lib.rs": """\
use std::collections::HashMap;

pub struct Cache {
    map: HashMap<String, i32>,
}

impl Cache {
    pub fn lookup(&self, key: &str) -> Option<i32> {
        self.map.get(key).copied()
    }
}

pub fn build() -> Cache {
    Cache { map: HashMap::new() }
}
""",
    "java/App.java": """\
import java.util.List;

public class App {
    public void run() {
        helper();
    }

    private void helper() {}
}
""",
    "native/math.c": """\
#include <stdio.h>

int add(int a, int b) {
    return a + b;
}

int main(void) {
    printf("%d", add(1, 2));
    return 0;
}
""",
    "native/shape.cpp": """\
#include "shape.hpp"

class Shape {
public:
    double area() const { return 0; }
};

double total(const Shape& s) {
    return s.area();
}
""",
    "ruby/greeter.rb": """\
require "json"

class Greeter
  def hello(name)
    format_name(name)
  end
end
""",
    "cs/Program.cs": """\
using System;

namespace Demo {
    public class Program {
        public static void Main() {
            Console.WriteLine(Compute());
        }

        static int Compute() { return 1; }
    }
}
""",
    "php/Repo.php": """\
<?php
namespace App;

use Foo\\Bar;

class Repo {
    public function find($id) {
        return helper($id);
    }
}

function helper($x) { return $x; }
""",
    "scripts/deploy.sh": """\
#!/bin/bash
source ./env.sh

deploy() {
  build_all
  echo done
}

deploy
""",
    "README.md": "# demo\n",
}


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_git_repo(root: Path, files: dict[str, str | bytes], commit: bool = True) -> git.Repo:
    root.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(root)
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test")
        cfg.set_value("user", "email", "test@example.com")
    write_files(root, files)
    if commit and files:
        repo.index.add([rel for rel in files])
        repo.index.commit("initial")
    return repo


@pytest.fixture
def poly_repo(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "poly"
    repo = make_git_repo(root, dict(SOURCES))
    repo.close()
    yield root


@pytest.fixture
def open_index() -> Iterator[Callable[..., RepoIndex]]:
    opened: list[RepoIndex] = []

    def factory(root: Path, **settings: object) -> RepoIndex:
        index = RepoIndex.open(root, IndexSettings(**settings))  # type: ignore[arg-type]
        opened.append(index)
        return index

    yield factory
    for index in opened:
        index.close()  # closing twice is allowed
