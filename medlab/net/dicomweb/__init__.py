"""DICOMweb (PS3.18) beside the PACS's DIMSE services, and the OHIF viewer on it."""
