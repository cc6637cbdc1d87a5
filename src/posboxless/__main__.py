from posboxless.cli import main

raise SystemExit(main())
