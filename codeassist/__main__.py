from codeassist.cli import main

raise SystemExit(main())
