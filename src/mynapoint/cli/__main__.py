from mynapoint.cli import main

main()
